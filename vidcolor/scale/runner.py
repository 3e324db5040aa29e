"""Whole jobs on an executor: one long file in segments (resumable), or a folder's files at
once, with one progress bar over all of it.

An executor is :class:`~.workers.LocalWorkers` or :class:`~.ray_runner.RayWorkers`: both
take ``submit(fn, *args) -> Future`` and carry progress on ``sink``. At most ``workers`` jobs
are submitted at a time, so finished segments are recorded as they finish (and Ray is not
handed a whole archive at once); which worker runs what is the executor's business.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any

import av

from vidcolor.io.atomic import check_destination, partial_path
from vidcolor.io.images import is_image
from vidcolor.io.reader import open_video
from vidcolor.io.writer import choose_encoder
from vidcolor.pipeline import Interrupted
from vidcolor.progress import Progress
from vidcolor.scale.jobs import Job, colorize_file, colorize_part
from vidcolor.scale.join import join_parts, part_suffix
from vidcolor.scale.manifest import Manifest
from vidcolor.scale.resume import Sidecar
from vidcolor.scale.segments import plan

log = logging.getLogger("vidcolor")


@contextlib.contextmanager
def executor(workers: int | None, ray: str | None, device: str) -> Iterator[Any]:
    """Local processes (``ray`` None) or Ray tasks; ended at once if the run is interrupted."""
    if ray is None:
        from vidcolor.scale.workers import LocalWorkers

        chosen = LocalWorkers(workers or 1)
    else:
        from vidcolor.scale.ray_runner import RayWorkers

        gpu = None if device == "auto" else device.startswith("cuda")
        chosen = RayWorkers(ray or None, workers, gpu)
    try:
        yield chosen
    except BaseException:
        chosen.close(cancel=True)
        raise
    chosen.close()


def colorize_segmented(job: Job, src: Path, dst: Path, pool: Any, progress: Progress, *,
                       resume: bool, seconds: float) -> dict[str, Any]:
    """``src`` in keyframe-aligned segments on ``pool``, joined into ``dst``; with ``resume``,
    continuing the run recorded in the sidecar. Returns the command's JSON summary."""
    options = job.options
    started = time.perf_counter()
    dst = check_destination(dst, src, overwrite=options.overwrite)
    encoder = choose_encoder(dst, options.codec).name
    sidecar = Sidecar(dst, part_suffix(encoder))
    parts_job = job.with_options(codec=encoder, overwrite=True)  # parts encode as dst would
    settings = job.with_options(codec=encoder).settings()
    segments = sidecar.resume(src, settings) if resume else None
    if segments is None:
        segments = plan(src, seconds, at_least=2 * pool.workers if pool.workers > 1 else 1)
        sidecar.start(src, settings, segments)
    finished = sidecar.done()
    if finished:
        log.warning("%s: resuming: %d of %d segments already done", src.name, len(finished),
                    len(segments))
    with open_video(src) as reader:
        info = reader.info
    todo = [s for s in segments if s.index not in finished]
    tally = _Tally(progress, {str(s.index): s.frames for s in todo})
    results: list[dict[str, Any]] = []
    try:
        with tally.listening(pool.sink):
            calls = ((colorize_part, parts_job, src, sidecar.part(s.index), s, str(s.index))
                     for s in todo)
            for call, future in _bounded(pool, calls):
                results.append(future.result())
                sidecar.mark_done(call[4].index)
    except KeyboardInterrupt as exc:
        for segment in todo:  # what a stopped in-process part kept; only whole parts count
            partial_path(sidecar.part(segment.index)).unlink(missing_ok=True)
        log.warning("%s: %d of %d segments done; run again with --resume to continue",
                    src.name, len(sidecar.done()), len(segments))
        raise Interrupted(None) from exc
    join_parts(src, info, [sidecar.part(s.index) for s in segments], dst,
               overwrite=options.overwrite)
    sidecar.remove()
    frames = sum(s.frames for s in segments)
    seconds_taken = time.perf_counter() - started
    first = results[0] if results else {}
    return {"input": str(src), "kind": "video", "output": str(dst), "frames": frames,
            "seconds": round(seconds_taken, 3), "fps": round(frames / seconds_taken, 2),
            "engine": first.get("engine", ""), "device": first.get("device", ""),
            "segments": len(segments), "segments_resumed": len(finished),
            "workers": pool.workers}


def colorize_folder(job: Job, files: list[tuple[Path, Path, str]], dst: Path, pool: Any,
                    progress: Progress, report: Callable[[str, BaseException], str],
                    ) -> tuple[list[dict], list[dict], list[str]]:
    """Every ``(input, output, label)`` on ``pool``, recorded in ``dst``'s manifest as each
    ends; files the manifest has as done are skipped. Returns the summaries of the files
    done, the failures ``{"input", "error"}`` (``report(label, exc)`` tells each as it
    comes and returns its message) and the inputs skipped."""
    manifest = Manifest(dst)
    finished = manifest.finished()
    skipped = [str(src) for src, _, _ in files if str(src) in finished]
    todo = [(src, out, label) for src, out, label in files if str(src) not in finished]
    tally = _Tally(progress, {label: _frames(src) for src, _, label in todo})
    done, failed = [], []
    for _, out, _ in todo:
        out.parent.mkdir(parents=True, exist_ok=True)
    with tally.listening(pool.sink):
        calls = ((colorize_file, job, src, out, label) for src, out, label in todo)
        for (_, _, src, out, label), future in _bounded(pool, calls):
            try:
                summary = future.result()
            except Exception as exc:  # one bad file is reported and skipped
                message = report(label, exc)
                manifest.record(src, out, None, message)
                failed.append({"input": str(src), "error": message})
                continue
            manifest.record(src, out, summary)
            done.append(summary)
    return done, failed, skipped


def _bounded(pool: Any, calls: Iterable[tuple]) -> Iterator[tuple[tuple, Future]]:
    """Submit ``(fn, *args)`` calls with at most ``pool.workers`` in flight; yield each call
    with its future as it finishes."""
    pending = iter(calls)
    running: dict[Future, tuple] = {}
    while True:
        while len(running) < pool.workers and (call := next(pending, None)) is not None:
            running[pool.submit(*call)] = call
        if not running:
            return
        ready, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in ready:
            yield running.pop(future), future


def _frames(src: Path) -> int:
    """Frames a file will give, for the overall bar (an image counts as one)."""
    if is_image(src):
        return 1
    try:
        with av.open(str(src)) as container:
            stream = container.streams.video[0]
            if stream.frames:
                return stream.frames
            seconds = container.duration / av.time_base if container.duration else 0
            return round(seconds * float(stream.average_rate or 25))
    except (av.FFmpegError, OSError, IndexError):
        return 0


class _Tally:
    """Frames done over every job, from the workers' ``(key, done)`` messages, on one bar."""

    def __init__(self, progress: Progress, totals: dict[str, int]) -> None:
        self.progress, self.counts = progress, dict.fromkeys(totals, 0)
        progress.start(sum(totals.values()))

    def update(self, key: str, done: int) -> None:
        self.progress.advance(done - self.counts.get(key, 0))
        self.counts[key] = done

    @contextlib.contextmanager
    def listening(self, sink: Any) -> Iterator[None]:
        """Read ``sink`` on a thread while the body runs; then drain it and close the bar."""
        stop = threading.Event()

        def read() -> None:
            while True:
                try:
                    self.update(*sink.get(timeout=0.1))
                except queue.Empty:
                    if stop.is_set():
                        return
                except (EOFError, OSError, ValueError):  # the queue was closed under us
                    return

        reader = threading.Thread(target=read, name="vidcolor-progress", daemon=True)
        reader.start()
        try:
            yield
        finally:
            stop.set()
            reader.join(2.0)
            self.progress.close()
