"""The streaming video pipeline: decode -> infer -> temporal -> encode, joined by bounded queues.

::

    decode thread          infer thread        temporal thread       encode thread
    demux, decode,  -q->   batch, infer  -q->  stabilize ab   -q->   ab -> Cb/Cr + own luma,
    small L                                                          encode, mux
    (audio/subtitle packets travel the same path, in order, untouched)

Inference is the slowest stage, so everything else runs on the other threads. Each queue
holds a few batches at most and, past its first batch, no more than ``QUEUE_BYTES`` of frames
(so only a few 4K frames); the stages keep only the frames a batch and the temporal window
need, so memory does not grow with the length of the input. The calling thread only
supervises: it re-raises the first error of any stage, and on Ctrl-C stops every stage
within a second and finalizes what was encoded as ``<stem>.partial<ext>``.

Ctrl-C is never raised at a random point of the supervising thread while the
stages run: from just before the temporary output exists until it is kept or
removed, the signal only asks the stages to stop (see :class:`_Interrupts`),
and the output is touched only after every stage thread has ended.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import numpy as np

from vidcolor.framecolor import FrameColor, Slot
from vidcolor.io.heap import map_large_blocks
from vidcolor.io.reader import BIG_FRAME, VideoReader, open_video
from vidcolor.io.writer import VideoWriter
from vidcolor.progress import NullProgress, Progress
from vidcolor.signals import StopRequests
from vidcolor.specs import LookSpec, ModelSpec, OutputSpec, TemporalSpec

if TYPE_CHECKING:
    from vidcolor.colorizer import Colorizer
    from vidcolor.look.chain import Look
    from vidcolor.scale.segments import Segment
    from vidcolor.temporal import TemporalStage

log = logging.getLogger(__name__)

STAGES = ("decode", "prepare", "infer", "temporal", "chroma", "encode")
_POLL = 0.05  # seconds between checks of the stop flag while a queue is full or empty
# Bytes of frames a queue holds past its first batch: one 4K frame (8.8 MB), six 1080p ones,
# while at 480p the count of items binds first; about half a second of work at any size on a
# 2-core CPU. 48 MB (five 4K frames a queue) cost 4K runs 110 MB more for no speed.
QUEUE_BYTES = 16 << 20


class _End:
    """Marks the end of the stream in a queue."""


END = _End()


class Interrupted(KeyboardInterrupt):
    """Ctrl-C: the run stopped; ``partial`` is the finalized partial output, if any.

    ``complete`` is True in the rare case where the signal came as the output was being
    finished: ``partial`` is then the complete output at its destination.
    """

    def __init__(self, partial: Path | None, complete: bool = False) -> None:
        if partial is None:
            text = "interrupted"
        else:
            text = f"interrupted; {'complete' if complete else 'partial'} output: {partial}"
        super().__init__(text)
        self.partial = partial
        self.complete = complete


class _Interrupts(StopRequests):
    """Stop signals while a run owns stage threads and a temporary output: counted, never
    raised (see :mod:`vidcolor.signals`), so the supervisor stops the stages at a safe point.
    One that came as another error ended the run (the encoder failed to open as Ctrl-C came,
    say) makes that run end as :class:`Interrupted`, with nothing kept."""

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        super().__exit__(exc_type, exc, tb)
        if self.count and exc_type is not None and not issubclass(exc_type, KeyboardInterrupt):
            raise Interrupted(None) from exc


@dataclass
class Stats:
    """What a run did and where its time went (``ms_per_frame`` per stage)."""

    output: str = ""
    frames: int = 0
    corrupt_frames_skipped: int = 0
    input_ends_early: str | None = None  # why the input looks cut short (a truncated file)
    packets_copied: int = 0
    seconds: float = 0.0
    engine: str = ""
    device: str = ""
    stage_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def add(self, stage: str, seconds: float) -> None:
        self.stage_seconds[stage] += seconds

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    @property
    def ms_per_frame(self) -> dict[str, float]:
        n = max(self.frames, 1)
        return {k: round(1000 * v / n, 3) for k, v in self.stage_seconds.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 2),
            "engine": self.engine,
            "device": self.device,
            "ms_per_frame": self.ms_per_frame,
            "corrupt_frames_skipped": self.corrupt_frames_skipped,
            "input_ends_early": self.input_ends_early,
            "packets_copied": self.packets_copied,
        }


class _Stop(Exception):
    """Raised inside a stage when another stage failed or the user interrupted."""


class _Channel:
    """A queue bounded by items and by bytes, whose blocking calls give up as soon as ``stop``
    is set.

    A frame counts its bytes (:attr:`Slot.nbytes`), so a queue holds fewer 4K frames than
    480p ones and memory stays bounded at any frame size. It always takes ``least`` items (a
    batch), however large: stages hand frames over a batch at a time.
    """

    def __init__(self, most: int, least: int, budget: int, stop: threading.Event) -> None:
        self.most, self.least, self.budget = most, least, budget
        self._items: deque[tuple[Any, int]] = deque()
        self._bytes = 0
        self._changed = threading.Condition()
        self._stop = stop

    def has_room(self, size: int) -> bool:
        """Whether an item of ``size`` bytes may go in now."""
        count = len(self._items)
        return count < self.least or (count < self.most and self._bytes + size <= self.budget)

    def put(self, item: Any) -> None:
        size = item.nbytes if isinstance(item, Slot) else 0
        with self._changed:
            self._wait_until(lambda: self.has_room(size))
            self._items.append((item, size))
            self._bytes += size
            self._changed.notify_all()

    def get(self) -> Any:
        with self._changed:
            self._wait_until(lambda: bool(self._items))
            item, size = self._items.popleft()
            self._bytes -= size
            self._changed.notify_all()
        return item

    def _wait_until(self, ready: Callable[[], bool]) -> None:
        """Wait, holding the lock, until ``ready()``; raise :class:`_Stop` once stopped."""
        while not self._stop.is_set():
            if ready():
                return
            self._changed.wait(_POLL)
        raise _Stop


class _Timer:
    """Adds the time spent inside ``with timer(stage):`` to the run's stats."""

    def __init__(self, stats: Stats, lock: threading.Lock) -> None:
        self._stats, self._lock = stats, lock

    def __call__(self, stage: str) -> _Span:
        return _Span(self, stage)

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self._stats.add(stage, seconds)


class _Span:
    def __init__(self, timer: _Timer, stage: str) -> None:
        self._timer, self._stage = timer, stage

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self._timer.add(self._stage, time.perf_counter() - self._start)


@dataclass
class _Batch:
    """Frames inferred together, with the packets read among them; ``done`` is None once
    inferred, else the call still running (on the thread pool)."""

    slots: list[Slot]
    held: list[Slot | av.Packet]
    done: Future | None = None


class _Infer:
    """Batches prepared frames and infers; passes frames and packets on in input order.

    Up to ``colorizer.concurrent_calls`` batches are inferred at once (ONNX Runtime runs
    concurrent calls in parallel; see its engine), the oldest always passed on first. A packet
    waits for the frames read before it, so the muxer gets the streams interleaved as they were.
    """

    def __init__(self, frames: FrameColor, batch: int, timer: _Timer) -> None:
        self.frames, self.batch, self.timer = frames, batch, timer
        self.calls = max(1, frames.colorizer.concurrent_calls)
        self.pool = ThreadPoolExecutor(self.calls, "vidcolor-infer") if self.calls > 1 else None
        self.pending: list[Slot] = []
        self.held: list[Slot | av.Packet] = []  # the pending frames and the packets among them
        self.inflight: deque[_Batch] = deque()

    def take(self, item: Slot | av.Packet) -> list[Slot | av.Packet]:
        """A prepared frame or a copied packet -> what can be passed on now."""
        if not isinstance(item, Slot):
            if self.pending:
                self.held.append(item)
            elif self.inflight:
                self.inflight[-1].held.append(item)
            else:
                return [item]
            return []
        ready = []
        if self.pending and self.pending[0].lightness.shape != item.lightness.shape:
            ready = self._submit()  # the frame size changed: no mixed batches
        self.pending.append(item)
        self.held.append(item)
        if len(self.pending) >= self.batch:
            ready += self._submit()
        return ready

    def finish(self) -> list[Slot | av.Packet]:
        """End of stream: infer what is left and pass everything on."""
        ready = self._submit()
        while self.inflight:
            ready += self._collect()
        return ready

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self) -> list[Slot | av.Packet]:
        """Start the batch filled so far, once a call is free; returns the batches done."""
        ready = []
        if self.pending:
            while len(self.inflight) >= self.calls:
                ready += self._collect()
            batch = _Batch(self.pending, self.held)
            if self.pool is None:
                self._infer(batch.slots)
            else:
                batch.done = self.pool.submit(self._infer, batch.slots)
            self.inflight.append(batch)
            self.pending, self.held = [], []
        while self.inflight and (self.inflight[0].done is None or self.inflight[0].done.done()):
            ready += self._collect()
        return ready

    def _collect(self) -> list[Slot | av.Packet]:
        """The oldest batch's frames and packets, once it is inferred."""
        batch = self.inflight.popleft()
        if batch.done is not None:
            batch.done.result()  # re-raises the call's error here, on the stage thread
        return batch.held

    def _infer(self, slots: list[Slot]) -> None:
        with self.timer("infer"):
            self.frames.infer(slots)


class _Stabilize:
    """The temporal stage on its own thread; frames leave in order once it releases them.

    ``order`` holds the frames and packets not yet passed on: a look-ahead temporal stage
    keeps frames back, and a packet leaves only after every frame before it.
    """

    def __init__(self, temporal: TemporalStage | None, timer: _Timer) -> None:
        self.temporal, self.timer = temporal, timer
        self.order: deque[Slot | av.Packet] = deque()
        self.slots: dict[int, Slot] = {}
        self.next_key = 0

    def take(self, item: Slot | av.Packet) -> list[Slot | av.Packet]:
        self.order.append(item)
        if isinstance(item, Slot):
            if self.temporal is None:
                item.ab = item.predicted
            else:
                key, self.next_key = self.next_key, self.next_key + 1
                self.slots[key] = item
                with self.timer("temporal"):
                    self._release(self.temporal.push(key, item.host_lightness(), item.predicted))
        return self._ready()

    def finish(self) -> list[Slot | av.Packet]:
        if self.temporal is not None:
            with self.timer("temporal"):
                self._release(self.temporal.flush())
        return self._ready()

    def _release(self, done: list[tuple[int, np.ndarray]]) -> None:
        for key, ab in done:
            self.slots.pop(key).ab = ab

    def _ready(self) -> list[Slot | av.Packet]:
        ready = []
        while self.order and not (isinstance(self.order[0], Slot) and self.order[0].ab is None):
            ready.append(self.order.popleft())
        return ready


class _Run:
    """One pipeline run: four stage threads, supervised by the caller's thread."""

    def __init__(self, reader: VideoReader, writer: VideoWriter, colorizer: Colorizer,
                 temporal: TemporalStage | None, batch: int, progress: Progress,
                 limit: Callable[[av.VideoFrame], bool], stats: Stats,
                 interrupts: _Interrupts | None = None, look: Look | None = None,
                 side_by_side: bool = False) -> None:
        self.reader, self.writer, self.progress, self.limit = reader, writer, progress, limit
        self.interrupts = interrupts or _Interrupts()
        self.stats, self.timer = stats, _Timer(stats, threading.Lock())
        self.frames = FrameColor(colorizer, writer.pix_fmt, look, side_by_side)
        self.infer = _Infer(self.frames, batch, self.timer)
        self.stabilize = _Stabilize(temporal, self.timer)
        self.stop = threading.Event()
        self.completed = False
        self.errors: list[BaseException] = []
        self.decoded, self.inferred, self.colored = (
            _Channel(2 * batch + 8, batch, QUEUE_BYTES, self.stop) for _ in range(3))

    def _stage(self, body: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                body()
            except _Stop:
                pass
            except BaseException as exc:  # handed to the supervising thread
                self.errors.append(exc)
                self.stop.set()

        return run

    def _decode(self) -> None:
        items = iter(self.reader)
        while True:
            start = time.perf_counter()
            item = next(items, END)
            if isinstance(item, av.VideoFrame) and self.limit(item):
                item = END
            self.timer.add("decode", time.perf_counter() - start)
            if isinstance(item, av.VideoFrame):
                # prepared here, on the decode thread, which has time to spare, so that the
                # inference thread, the pipeline's slowest, only infers
                with self.timer("prepare"):
                    item = self.frames.prepare(item)
            self.decoded.put(item)
            if item is END:
                return

    def _pass(self, stage: _Infer | _Stabilize, source: _Channel, sink: _Channel) -> None:
        """Feed ``stage`` from ``source`` and what it hands on into ``sink``, END last."""
        while (item := source.get()) is not END:
            for out in stage.take(item):
                sink.put(out)
        for out in stage.finish():
            sink.put(out)
        sink.put(END)

    def _infer(self) -> None:
        self._pass(self.infer, self.decoded, self.inferred)

    def _stabilize(self) -> None:
        self._pass(self.stabilize, self.inferred, self.colored)

    def _encode(self) -> None:
        """Chroma planes are built here, so that they overlap with the next batch's inference."""
        while (item := self.colored.get()) is not END:
            if isinstance(item, Slot):
                with self.timer("chroma"):
                    frame = self.frames.finish(item, item.ab)
                with self.timer("encode"):
                    self.writer.write(frame)
                self.stats.frames += 1
                self.progress.advance(1)
            else:
                with self.timer("encode"):
                    self.writer.write(item)
                self.stats.packets_copied += 1
        with self.timer("encode"):
            self.writer.close()
        self.completed = True

    def run(self) -> None:
        """Run to the end, or raise the first stage error, or :class:`Interrupted`.

        Run it inside ``self.interrupts`` (entered on the main thread), so that Ctrl-C only
        sets a count this thread polls. Whatever happens, every stage thread has ended before
        the output is kept or removed, and before this returns.
        """
        threads = [  # not daemons: the interpreter must never exit under a running stage
            threading.Thread(target=self._stage(body), name=f"vidcolor-{name}")
            for name, body in (("decode", self._decode), ("infer", self._infer),
                               ("temporal", self._stabilize), ("encode", self._encode))
        ]
        try:
            for thread in threads:
                thread.start()
            while threads[-1].is_alive() and not self.stop.is_set() and not self.interrupts.count:
                threads[-1].join(_POLL)
        finally:
            self.stop.set()  # each stage notices it within one item's work
            for thread in threads:
                while thread.ident is not None and thread.is_alive():  # ident: it was started
                    thread.join(_POLL)
            self.infer.close()  # inference calls still running finish; queued ones are dropped
        self._conclude()

    def _conclude(self) -> None:
        """Keep or remove the output, once every stage has ended."""
        interrupts = self.interrupts.count
        if self.completed:
            if interrupts:  # the signal came as the encoder was finishing the file
                raise Interrupted(self.writer.dst, complete=True)
            return
        if interrupts == 1 and not self.errors:
            raise Interrupted(self._keep_partial())
        self.writer.abort()
        if interrupts:  # a second Ctrl-C while stopping: keep nothing
            raise Interrupted(None)
        raise self.errors[0] if self.errors else RuntimeError("the pipeline stopped early")

    def _keep_partial(self) -> Path | None:
        try:
            return self.writer.finalize_partial()
        except Exception as exc:  # the writer has already removed its file
            log.warning("could not keep the partial output: %s", exc)
            return None
        except BaseException:  # a KeyboardInterrupt, where signals are not deferred
            self.writer.abort()
            raise


def default_batch(width: int, height: int) -> int:
    """4 frames per inference call, 1 above 1080p: there the encoder, not the network, sets
    the pace, and every frame a batch gathers holds its full-size luma (8 MB at 4K) while
    ONNX Runtime keeps buffers sized for the whole batch."""
    return 1 if width * height > BIG_FRAME else 4


def _frame_limit(frames: int | None, duration: float | None) -> Callable[[av.VideoFrame], bool]:
    """True for the first frame past ``frames`` frames or ``duration`` seconds."""
    seen = 0
    first: float | None = None

    def past(frame: av.VideoFrame) -> bool:
        nonlocal seen, first
        seen += 1
        if frames is not None and seen > frames:
            return True
        if duration is None or frame.time is None:
            return False
        first = frame.time if first is None else first
        return frame.time - first >= duration

    return past


def colorize_video(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    model: ModelSpec | None = None,
    colorizer: Colorizer | None = None,
    temporal: TemporalSpec = TemporalSpec(),
    output: OutputSpec = OutputSpec(),
    batch: int | None = None,
    hwdec: str | None = None,
    input_options: dict[str, str] | None = None,
    frames: int | None = None,
    duration: float | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    segment: Segment | None = None,
    look: LookSpec = LookSpec(),
    side_by_side: bool = False,
) -> Stats:
    """Colorize the video ``src`` into ``dst``; returns the run's :class:`Stats`.

    ``colorizer``: a ready :class:`vidcolor.Colorizer` (reuse one across files); else one is
    built from ``model`` (default: the shipped model, chosen engine and device). ``hwdec``
    ("cuda": NVDEC) decodes on the GPU; ``OutputSpec(codec="h264_nvenc")`` encodes there.
    ``input_options``: FFmpeg's options for opening ``src`` (a URL's headers, user agent).
    ``frames``/``duration`` stop early. Raises :class:`Interrupted` on Ctrl-C (or any signal
    whose handler is ``signal.default_int_handler``) after keeping the partial output.
    ``batch``: frames per inference call; None: :func:`default_batch`.
    ``segment`` (:mod:`vidcolor.scale.segments`): colorize only that keyframe-aligned piece,
    video only, its temporal stage warmed on the frames before it. ``look``: the colourist
    controls. ``side_by_side``: write gray | colour frames, twice as wide, for review.
    """
    if colorizer is not None and model is not None:
        raise ValueError("give a model spec or a ready colorizer, not both")
    started = time.perf_counter()
    map_large_blocks()
    colorizer = colorizer or (model or ModelSpec()).build()
    stage, painted = temporal.build(), look.build()
    progress = progress or NullProgress()
    stats = Stats(engine=colorizer.engine.name, device=str(colorizer.engine.device))
    # From before the temporary output exists until it is kept or removed, Ctrl-C is only
    # counted and the run acts on it at safe points (one that comes before the stages start
    # stops them at once and leaves nothing).
    carried = {} if segment is None else {"copy_types": ()}
    with (open_video(src, hwdec=hwdec, options=input_options, **carried) as reader,
          _Interrupts() as interrupts):
        info = replace(reader.info, width=2 * reader.info.width) if side_by_side else reader.info
        if segment is not None:  # a part keeps the input's clock; join_parts moves the whole
            info = replace(info, start_time=0)
        writer = VideoWriter(dst, info, reader.copy_streams, codec=output.codec,
                             crf=output.file_crf, preset=output.preset, src=src,
                             overwrite=overwrite)
        total = reader.info.frames
        if frames is not None:
            total = min(total, frames) if total else frames
        source, counted = reader, progress
        if segment is not None:  # the segment's writer counts only the frames it keeps
            source = segment.read(reader, after=getattr(stage, "window", 0))
            writer, counted, total = segment.write(writer, progress), NullProgress(), segment.frames
        try:
            batch = batch or default_batch(reader.info.width, reader.info.height)
            run = _Run(source, writer, colorizer, stage, batch, counted,
                       _frame_limit(frames, duration), stats, interrupts, painted, side_by_side)
            progress.start(total)
        except BaseException:
            writer.abort()
            raise
        try:
            run.run()  # from here on, the run keeps or removes the output itself
        finally:
            progress.close()
        stats.corrupt_frames_skipped = reader.skipped
        stats.input_ends_early = reader.shortfall()
    if interrupts.count:  # the signal came just after the run had finished the output
        raise Interrupted(writer.dst, complete=True)
    stats.output = str(dst)
    stats.frames = writer.frames  # without a segment's warm-up frames
    stats.seconds = time.perf_counter() - started
    return stats
