"""``run_live``: capture thread → newest-wins queue → colorizer → every sink, until told to stop.

The loop runs on the calling thread (OpenCV windows want the main thread); stop signals (SIGINT,
SIGTERM, SIGHUP: ``vidcolor.signals``) are counted, so the current frame finishes and every
output is finalized.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live
from rich.text import Text

from vidcolor.io.heap import map_large_blocks
from vidcolor.redact import redact
from vidcolor.signals import STOP_SIGNALS, StopRequests
from vidcolor.specs import LookSpec, ModelSpec, OutputSpec, TemporalSpec

from .backoff import Backoff
from .colorize import FrameColorizer
from .http_preview import HttpPreviewSink
from .latest import Closed, LatestQueue
from .sinks import Sink, open_sink
from .source import CaptureThread, SourceGaveUp, SourceSpec, is_live_source
from .stats import LiveStats, LiveSummary
from .window import WindowSink

if TYPE_CHECKING:
    from vidcolor.colorizer import Colorizer

log = logging.getLogger("vidcolor.live")
DEFAULT_RATE = Fraction(30)


class LiveError(RuntimeError):
    """The run failed (source unreachable past the give-up time, an output broke). Outputs
    were still finalized; ``summary`` says how far it got. The message is redacted."""

    def __init__(self, message: str, summary: LiveSummary) -> None:
        super().__init__(redact(message))
        self.summary = summary


def run_live(
    source: str | SourceSpec,
    *,
    outputs: Sequence[str] = (),
    preview: bool = False,
    serve: str | None = None,
    segment_seconds: float | None = None,
    overwrite: bool = False,
    model: ModelSpec | None = None,
    colorizer: Colorizer | None = None,
    temporal: TemporalSpec = TemporalSpec(),
    output: OutputSpec = OutputSpec(),
    look: LookSpec = LookSpec(),
    frames: int | None = None,
    duration: float | None = None,
    reconnect: bool = True,
    reconnect_cap: float = 10.0,
    give_up_after: float | None = 60.0,
    audio: bool = True,
    queue_size: int = 2,
    status: bool | None = None,
    stop: threading.Event | None = None,
    stats: LiveStats | None = None,
) -> LiveSummary:
    """Colorize a live source until ``frames``/``duration`` is reached, a signal arrives,
    ``stop`` is set, the preview window is closed with q, or the source is gone for longer
    than ``give_up_after`` seconds (None: retry forever; then :class:`LiveError`).

    ``source``: a URL or device, or a :class:`SourceSpec` (capture format, size, rate, FFmpeg
    options, and the timeout before a silent source counts as lost, which restreams use too).
    ``outputs``: files (``segment_seconds`` cuts them) and restream URLs, encoded as
    ``output`` says. ``serve``: the preview page's [HOST:]PORT; its URL is printed on stderr.
    ``colorizer``: a ready one; else one is built from ``model``, making one call at a time.
    ``temporal``: causal or off (live runs cannot look ahead). ``look``: colourist controls.
    ``status``: the rich status line (None: on a TTY). ``stats``: pass a :class:`LiveStats`
    to watch the run from another thread (benchmarks). The summary's ``stopped_by``: frames,
    duration, signal, stop, window closed, source ended (a file or finite HTTP source), gave
    up / error (with :class:`LiveError`). Raises ``vidcolor.io.errors.OutputError`` for bad
    outputs before the source is opened.
    """
    if colorizer is not None and model is not None:
        raise ValueError("give a model spec or a ready colorizer, not both")
    if temporal.looks_ahead:
        raise ValueError(f"live runs support temporal 'causal' or 'off', not {temporal.mode!r}")
    spec = source if isinstance(source, SourceSpec) else SourceSpec(source)
    map_large_blocks()
    timeout = spec.read_timeout
    sinks: list[Sink] = []
    try:
        sinks += [open_sink(o, output, segment_seconds=segment_seconds, overwrite=overwrite,
                            timeout=timeout, retry_cap=reconnect_cap) for o in outputs]
        if serve is not None:
            page = HttpPreviewSink(serve)
            sinks.append(page)
            # even when quiet: the one way to learn a port the system picked (HOST:0)
            print(f"vidcolor: serving preview at {page.url}", file=sys.stderr, flush=True)
        if preview:
            sinks.append(WindowSink())
        # one frame at a time: each call gets every core (lower latency than calls in flight)
        paint = FrameColorizer(colorizer or (model or ModelSpec()).build(calls=1),
                               temporal.build(), look.build())
    except BaseException:
        _close_all(sinks)
        raise
    stats = stats or LiveStats()
    capture = CaptureThread(spec, LatestQueue(queue_size), stats,
                            Backoff(cap=reconnect_cap, give_up_after=give_up_after),
                            reconnect=reconnect and is_live_source(spec.url, spec.input_format),
                            audio=audio)
    stop = stop or threading.Event()
    names = [s.name for s in sinks]
    engine = paint.engine
    engine_label = f"{engine.name}/{engine.device}"
    reason = "stop"
    try:
        with StopRequests(STOP_SIGNALS) as signals, \
                _StatusLine(status, stats, engine_label) as line:
            capture.start()
            reason = _loop(capture, paint, sinks, stats, stop, signals, frames, duration, line)
    finally:
        capture.stop()
        capture.template_used.set()
        capture.join(timeout=2.0)  # a read blocked in FFmpeg ends at its own timeout; daemon
        _close_all(sinks)
    if capture.error is not None:
        reason = "gave up" if isinstance(capture.error, SourceGaveUp) else "error"
    summary = stats.summary(redact(spec.url), names, engine.name, str(engine.device), reason)
    if capture.error is not None:
        raise LiveError(str(capture.error), summary)
    log.info("live run ended (%s): %d frames out, %d dropped, p95 latency %s ms", reason,
             summary.frames_out, summary.dropped, summary.latency_ms_p95)
    return summary


def _loop(capture: CaptureThread, paint: FrameColorizer, sinks: list[Sink], stats: LiveStats,
          stop: threading.Event, signals: StopRequests, frames: int | None,
          duration: float | None, line) -> str:
    started: float | None = None
    reconnects = 0
    while True:
        if signals.count:
            return "signal"
        if stop.is_set():
            return "stop"
        if started is not None and duration is not None and time.monotonic() - started >= duration:
            return "duration"
        line.update()
        try:
            item = capture.frames.get(timeout=0.1)
        except Closed:
            return "source ended"
        if started is not None:
            _drain_audio(capture, sinks, stats)
        if item is None:
            continue
        if started is None:
            started = time.monotonic()
            for sink in sinks:
                sink.start(item.frame, capture.rate or DEFAULT_RATE, capture.audio_stream)
            capture.template_used.set()
        if stats.reconnects != reconnects:
            reconnects = stats.reconnects
            paint.reset()
        out = paint(item.frame)
        for sink in sinks:
            sink.write(out, item.time)
        stats.frame_out(item.captured_at)
        if frames is not None and stats.frames_out >= frames:
            return "frames"
        if any(s.stop_requested for s in sinks):
            return "window closed"


def _drain_audio(capture: CaptureThread, sinks: list[Sink], stats: LiveStats) -> None:
    with contextlib.suppress(Closed):
        while (packet := capture.audio.get(timeout=0)) is not None:
            stats.audio_packets += 1
            for sink in sinks:
                sink.write_audio(packet)


def _close_all(sinks: list[Sink]) -> None:
    """Close every sink even if one fails; the first failure is re-raised afterwards."""
    error: BaseException | None = None
    for sink in sinks:
        try:
            sink.close()
        except Exception as exc:  # noqa: BLE001 - keep finalizing the others
            log.error("closing %s failed: %s", sink.name, redact(exc))
            error = error or exc
    if error is not None:
        raise error


class _StatusLine:
    """The one-line live status on stderr, refreshed twice a second, on a terminal only."""

    def __init__(self, enabled: bool | None, stats: LiveStats, engine: str) -> None:
        console = Console(stderr=True)
        self._stats, self._engine = stats, engine
        self._live = None
        if console.is_terminal if enabled is None else enabled:
            self._live = Live(console=console, auto_refresh=False, transient=True)
        self._next = 0.0

    def __enter__(self) -> _StatusLine:
        if self._live is not None:
            self._live.start()
        return self

    def update(self) -> None:
        now = time.monotonic()
        if self._live is None or now < self._next:
            return
        self._next = now + 0.5
        self._live.update(Text(redact(self._stats.status_line(self._engine))), refresh=True)

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.stop()
