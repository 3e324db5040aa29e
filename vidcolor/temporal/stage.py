"""The temporal stage: keeps predicted chroma still along motion, between colorizer and encoder.

Each frame's ab prediction is blended with the previous stabilized ab warped
onto it (a recursive filter along optical-flow trajectories), weighted per
pixel by the motion trust so occlusions and new objects take the new
prediction. Scene cuts reset the filter. The look-ahead mode also pulls a
backward-filtered estimate from a bounded window of future frames.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass

import cv2
import numpy as np

from vidcolor.temporal.flow import Link, MotionEstimator, pull

MODES = ("off", "causal", "bidirectional")
Output = tuple[Hashable, np.ndarray]


@dataclass
class _Frame:
    key: Hashable
    small: np.ndarray  # prepared 8-bit lightness for flow
    hist: np.ndarray  # lightness histogram for cut detection
    ab: np.ndarray  # the colorizer's prediction [2, h, w]
    forward: np.ndarray  # causally filtered ab [2, h, w]
    ahead: Link | None = None  # pulls the next frame onto this one; None at a cut or at the end


def _blend(ab: np.ndarray, other: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """ab + weight * (other - ab), per pixel."""
    return ab + weight * (other - ab)


def _warp(ab: np.ndarray, link: Link) -> np.ndarray:
    return np.stack([pull(channel, link.remap) for channel in ab])


def region_mean(values: np.ndarray, weight: np.ndarray, cell: int, floor: float = 1e-3) -> np.ndarray:
    """Weighted mean of ``values`` [c, h, w] over ``cell``-square cells, upsampled smoothly.

    The weight (the motion trust) keeps untrusted pixels out of their cell's mean.
    """
    c, h, w = values.shape
    small = (max(w // cell, 1), max(h // cell, 1))
    den = cv2.resize(weight, small, interpolation=cv2.INTER_AREA)
    num = cv2.resize(np.ascontiguousarray((values * weight).transpose(1, 2, 0)), small,
                     interpolation=cv2.INTER_AREA).reshape(small[1], small[0], c)
    mean = num / np.maximum(den, floor)[..., None]
    return cv2.resize(mean, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, c).transpose(2, 0, 1)


class TemporalStage:
    """Stabilizes ab predictions over time.

    ``mode``: "off" (identity), "causal" (no added latency, for live streams),
    "bidirectional" (outputs delayed by ``window`` frames, uses their future).
    ``strength`` in 0..1 is the share of the motion-compensated past kept
    where motion is trusted (0 = off). A cut is declared when the mean trust
    falls under ``cut_trust`` or the lightness histograms differ by more than
    ``cut_histogram`` (Bhattacharyya distance). Both thresholds are low on
    purpose: fast zooms and motion blur (the shared running-car clip) drive the
    trust to 0.05-0.1 and the histogram distance to 0.35 without a cut, and a
    false cut there throws away the regions that still match; a real cut
    leaves nothing that matches. The residual test stays strict (sigma 4 L
    units): loosening it lets warped colour trail behind moving objects.
    """

    def __init__(
        self,
        mode: str = "causal",
        strength: float = 0.9,
        *,
        window: int = 3,
        preset: str = "fast",
        downscale: int = 2,
        residual_sigma: float = 4.0,
        flow_tolerance: float = 4.0,
        cut_trust: float = 0.05,
        cut_histogram: float = 0.5,
        erode: int = 5,
        correlation: float = 8.0,
        region_strength: float = 0.98,
        region_cell: int = 16,
        region_trust: tuple[float, float] = (0.0, 1.0),
        region_floor: float = 1e-3,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"temporal mode must be one of {MODES}, got {mode!r}")
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"temporal strength must be in 0..1, got {strength}")
        if window < 1:
            raise ValueError(f"look-ahead window must be >= 1, got {window}")
        self.mode = mode
        self.strength = float(strength)
        self.window = window if mode == "bidirectional" else 0
        self.cut_trust = cut_trust
        self.cut_histogram = cut_histogram
        self.region_strength = max(float(region_strength), self.strength)
        self.region_cell = region_cell
        self.region_trust = region_trust
        self.region_floor = region_floor
        self._motion = MotionEstimator(
            preset, downscale, flow_tolerance, residual_sigma, erode, correlation
        )
        self._frames: deque[_Frame] = deque()
        self.cuts = 0  # scene cuts seen since construction (for logs and tests)

    def reset(self) -> None:
        """Forget all history (and drop any buffered frames: flush() first to keep them)."""
        self._frames.clear()

    def push(self, key: Hashable, lightness: np.ndarray, ab: np.ndarray) -> list[Output]:
        """Take one frame (L [h, w] 0..100, ab [2, h, w]); return the frames now final, in order."""
        if self.mode == "off" or self.strength == 0.0:
            return [(key, ab)]
        ab = np.ascontiguousarray(ab, dtype=np.float32)
        if ab.ndim != 3 or ab.shape[0] != 2 or np.shape(lightness) != ab.shape[1:]:
            raise ValueError(f"expected L [h, w] and ab [2, h, w], got {np.shape(lightness)} "
                             f"and {ab.shape}")
        out: list[Output] = []
        prev = self._frames[-1] if self._frames else None
        if prev is not None and prev.ab.shape != ab.shape:
            out = self.flush()  # new geometry: the old stream is over
            prev = None
        small = self._motion.prepare(np.asarray(lightness, dtype=np.float32))
        hist = cv2.calcHist([small], [0], None, [32], [0, 256])
        frame = _Frame(key, small, hist, ab, ab)
        if prev is not None:
            frame.forward = self._follow(prev, frame)
        self._frames.append(frame)
        if self.mode == "causal":
            while len(self._frames) > 1:
                self._frames.popleft()
            out.append((key, frame.forward))
        elif len(self._frames) > self.window:
            out.append(self._emit())
        return out

    def flush(self) -> list[Output]:
        """Return every buffered frame (end of stream) and start afresh."""
        out = []
        if self.mode == "bidirectional":
            while self._frames:
                out.append(self._emit())
        self.reset()
        return out

    def _follow(self, prev: _Frame, cur: _Frame) -> np.ndarray:
        """Causal estimate for ``cur``; also records the look-ahead link on ``prev``."""
        f_cp, f_pc = self._motion.flows(cur.small, prev.small)
        size = cur.ab.shape[1:]
        back = self._motion.link(cur.small, prev.small, f_cp, f_pc, size)
        distance = cv2.compareHist(prev.hist, cur.hist, cv2.HISTCMP_BHATTACHARYYA)
        if float(back.trust.mean()) < self.cut_trust or distance > self.cut_histogram:
            self.cuts += 1
            return cur.ab
        if self.mode == "bidirectional":
            prev.ahead = self._motion.link(prev.small, cur.small, f_pc, f_cp, size)
        return self._filter(cur.ab, _warp(prev.forward, back), back.trust)

    def _filter(self, ab: np.ndarray, memory: np.ndarray, trust: np.ndarray) -> np.ndarray:
        """ab pulled toward the motion-compensated ``memory``: detail by ``strength``, the
        region-level part by ``region_strength``."""
        gap = memory - ab
        lo, hi = self.region_trust
        region_trust = np.clip((trust - lo) / (hi - lo), 0.0, 1.0)
        region = region_mean(gap, trust, self.region_cell, self.region_floor)
        return ab + trust * self.strength * (gap - region) + region_trust * self.region_strength * region

    def _emit(self) -> Output:
        """Finalize the oldest buffered frame from its causal estimate and its future."""
        frame = self._frames.popleft()
        if frame.ahead is None or not self._frames:
            return frame.key, frame.forward
        chain = [frame]
        for nxt in self._frames:
            chain.append(nxt)
            if nxt.ahead is None:
                break
        future = chain[-1].forward
        for f in reversed(chain[1:-1]):
            future = self._filter(f.ab, _warp(future, f.ahead), f.ahead.trust)
        weight = 0.5 * frame.ahead.trust
        return frame.key, _blend(frame.forward, _warp(future, frame.ahead), weight)
