"""Counters, rates and latency percentiles for a live run, in memory that does not grow."""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import asdict, dataclass

import numpy as np

_BIN_MS = 1.0
_BINS = 10_000  # 0..10 s in 1 ms bins; slower frames land in the last bin


class RateMeter:
    """Events per second over the last ``window`` seconds."""

    def __init__(self, window: float = 2.0) -> None:
        self._times: collections.deque[float] = collections.deque()
        self._window = window
        self._lock = threading.Lock()

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._times.append(now)
            while self._times and now - self._times[0] > self._window:
                self._times.popleft()

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._times and now - self._times[0] > self._window:
                self._times.popleft()
            return len(self._times) / self._window if self._times else 0.0


class LatencyHistogram:
    """Percentiles over a whole run (1 ms bins) and over the most recent frames."""

    def __init__(self, recent: int = 300) -> None:
        self._counts = np.zeros(_BINS, np.int64)
        self._recent: collections.deque[float] = collections.deque(maxlen=recent)
        self.max_ms = 0.0

    def add(self, ms: float) -> None:
        self._counts[min(int(ms / _BIN_MS), _BINS - 1)] += 1
        self._recent.append(ms)
        self.max_ms = max(self.max_ms, ms)

    def percentile(self, q: float) -> float | None:
        """Whole-run percentile (upper edge of its 1 ms bin), None before the first frame."""
        total = int(self._counts.sum())
        if total == 0:
            return None
        index = int(np.searchsorted(np.cumsum(self._counts), q / 100 * total, side="left"))
        return (index + 1) * _BIN_MS

    def recent_percentile(self, q: float) -> float | None:
        return float(np.percentile(np.fromiter(self._recent, float), q)) if self._recent else None


@dataclass
class LiveSummary:
    """What ``run_live`` returns (and ``--json`` prints)."""

    source: str
    outputs: list[str]
    frames_in: int
    frames_out: int
    dropped: int
    drop_ratio: float
    reconnects: int
    audio_packets: int
    corrupt_packets: int
    seconds: float
    input_fps: float
    output_fps: float
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    latency_ms_max: float | None
    engine: str
    device: str
    stopped_by: str

    def to_dict(self) -> dict:
        return asdict(self)


class LiveStats:
    """Shared by the capture thread (input side) and the processing loop (output side)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.frames_in = 0
        self.frames_out = 0
        self.dropped = 0
        self.reconnects = 0
        self.audio_packets = 0
        self.corrupt_packets = 0
        self.state = "connecting"
        self.input_rate = RateMeter()
        self.output_rate = RateMeter()
        self.latency = LatencyHistogram()

    def frame_in(self) -> None:
        self.frames_in += 1
        self.input_rate.tick()

    def frame_out(self, captured_at: float) -> None:
        now = time.monotonic()
        self.frames_out += 1
        self.output_rate.tick(now)
        self.latency.add((now - captured_at) * 1000.0)

    def status_line(self, engine: str) -> str:
        p50, p95 = self.latency.recent_percentile(50), self.latency.recent_percentile(95)
        lat = "-" if p50 is None else f"p50 {p50:.0f} / p95 {p95:.0f} ms"
        share = self.dropped / self.frames_in if self.frames_in else 0.0
        fps_in, fps_out = self.input_rate.rate(), self.output_rate.rate()
        return (f"{self.state} · in {fps_in:.1f} · out {fps_out:.1f} fps · dropped "
                f"{self.dropped} ({share:.1%}) · {lat} · {engine}")

    def summary(self, source: str, outputs: list[str], engine: str, device: str,
                stopped_by: str) -> LiveSummary:
        seconds = time.monotonic() - self.started
        return LiveSummary(
            source=source, outputs=outputs, frames_in=self.frames_in, frames_out=self.frames_out,
            dropped=self.dropped,
            drop_ratio=round(self.dropped / self.frames_in, 4) if self.frames_in else 0.0,
            reconnects=self.reconnects, audio_packets=self.audio_packets,
            corrupt_packets=self.corrupt_packets,
            seconds=round(seconds, 3),
            input_fps=round(self.frames_in / seconds, 2) if seconds else 0.0,
            output_fps=round(self.frames_out / seconds, 2) if seconds else 0.0,
            latency_ms_p50=self.latency.percentile(50), latency_ms_p95=self.latency.percentile(95),
            latency_ms_max=round(self.latency.max_ms, 1) if self.frames_out else None,
            engine=engine, device=device, stopped_by=stopped_by,
        )
