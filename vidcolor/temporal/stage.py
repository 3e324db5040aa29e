"""The temporal stage: keeps predicted chroma still along motion, between colorizer and encoder.

Each frame's ab prediction is pulled toward the previous stabilized ab warped
onto it (a recursive filter along optical-flow trajectories), weighted per
pixel by the motion trust so occlusions and new objects take the new
prediction. The pull has two bands. Detail keeps ``strength`` of the past (0.9:
a memory of about ten frames). The region-level colour, the trust-weighted mean
over 16-pixel cells of past minus prediction, keeps a weight accumulated along
the trajectory: it averages a trajectory's first frames evenly, then remembers
about 1 / (1 - ``region_strength``) frames (0.985: seventy). A per-frame colorizer
that changes its mind about a whole region every few frames (a pool or a lawn
going orange, green, blue) is thus held to one colour for seconds, where ten
frames of memory let the hue wander. Scene cuts reset the filter. The
look-ahead mode also pulls a backward-filtered estimate from a bounded window
of future frames.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass

import cv2
import numpy as np

from vidcolor.specs import TEMPORAL_MODES
from vidcolor.temporal.flow import Link, MotionEstimator, pull

MODES = TEMPORAL_MODES  # declared with the spec the command line builds
REGION_FLOOR = 0.1  # mean trust under which a cell's region colour is only partly believed
Output = tuple[Hashable, np.ndarray]


@dataclass
class _Frame:
    key: Hashable
    small: np.ndarray  # prepared 8-bit lightness for flow
    hist: np.ndarray  # lightness histogram for cut detection
    ab: np.ndarray  # the colorizer's prediction [2, h, w]
    forward: np.ndarray  # causal filter state [3, h, w]: stabilized ab, region weight
    ahead: Link | None = None  # pulls the next frame onto this one; None at a cut or at the end


def _blend(ab: np.ndarray, other: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """ab + weight * (other - ab), per pixel."""
    return ab + weight * (other - ab)


def _fresh(ab: np.ndarray) -> np.ndarray:
    """The filter state of a frame with no past: [3, h, w], its ab and region weight 1 (ab
    and weight travel together, so one warp moves both along motion)."""
    state = np.empty((3, *ab.shape[1:]), np.float32)
    state[:2] = ab
    state[2] = 1.0
    return state


def _warp(ab: np.ndarray, link: Link) -> np.ndarray:
    return np.stack([pull(channel, link.remap) for channel in ab])


def region_mean(values: np.ndarray, weight: np.ndarray, cell: int) -> np.ndarray:
    """Weighted mean of each channel of ``values`` [c, h, w] over ``cell``-square cells,
    upsampled smoothly to [c, h, w].

    The weight (the motion trust) keeps untrusted pixels out of their cell's mean; a cell
    whose mean weight is under REGION_FLOOR has its mean shrunk toward 0, so a few barely
    trusted pixels cannot speak for it.
    """
    h, w = weight.shape
    small = (max(w // cell, 1), max(h // cell, 1))
    den = np.maximum(cv2.resize(weight, small, interpolation=cv2.INTER_AREA), REGION_FLOOR)
    return np.stack([
        cv2.resize(cv2.resize(v * weight, small, interpolation=cv2.INTER_AREA) / den, (w, h),
                   interpolation=cv2.INTER_LINEAR)
        for v in values
    ])


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

    ``region_strength`` (0..1, 1 excluded) is the keep-share the region-level
    colour approaches along a trajectory (not above ``strength``: one band, the
    plain recursive filter); ``region_cell`` the cell size in pixels;
    ``region_trust`` the motion trust from which a pixel takes the region memory
    in full (below it, in proportion). That is low on purpose: on water, spray
    and foliage (the shared pool and tree clips) about half the pixels sit under
    0.5 where the region colour still matches, while uncovered content mostly
    sits under 0.02. What the region band carries is a correction (past minus
    prediction, averaged over trusted pixels), never a colour, so uncovered
    content keeps its own hue. On the shared clips the region band cuts the
    chroma warp error at a 15-frame gap by 43 % against the one-band filter
    (benchmarks/results/*/temporal.md). 0.98 left the bikes clip just over its
    15-frame target there, and 0.99 took 0.11 dB of PSNR from a talking head.

    Tried there and not kept: averaging the chroma apart from the hue and giving it back
    (up to 2x) keeps more colour where hues disagree (running car 0.86 of per-frame's
    colourfulness instead of 0.80) but lets the disagreement back in (its 15-frame error
    1.44x the target instead of 1.15x, bikes over too); a motion-free band pulling each
    frame's mean ab toward the last output's where the flow fails (running car 1.08x) took
    0.18 dB of PSNR from a hand-held clip whose colours really change.
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
        region_strength: float = 0.985,
        region_cell: int = 16,
        region_trust: float = 0.05,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"temporal mode must be one of {MODES}, got {mode!r}")
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"temporal strength must be in 0..1, got {strength}")
        if not 0.0 <= region_strength < 1.0:
            raise ValueError(f"region strength must be in 0..1 (1 excluded), got {region_strength}")
        if window < 1:
            raise ValueError(f"look-ahead window must be >= 1, got {window}")
        self.mode = mode
        self.strength = float(strength)
        self.window = window if mode == "bidirectional" else 0
        self.cut_trust = cut_trust
        self.cut_histogram = cut_histogram
        self.region_strength = float(region_strength)
        self.region_cell = region_cell
        self.region_trust = region_trust
        self._motion = MotionEstimator(
            preset, downscale, flow_tolerance, residual_sigma, erode, correlation
        )
        self._frames: deque[_Frame] = deque()
        self.cuts = 0  # scene cuts seen since construction (for logs and tests)
        self._trust_total, self._links = 0.0, 0  # for mean_trust

    @property
    def mean_trust(self) -> float:
        """Mean motion trust over every frame followed so far: how much of the picture the
        flow could follow (low under motion blur and fast zooms, where the stage holds less)."""
        return self._trust_total / max(self._links, 1)

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
        frame = _Frame(key, small, hist, ab, _fresh(ab))
        if prev is not None:
            frame.forward = self._follow(prev, frame)
        self._frames.append(frame)
        if self.mode == "causal":
            while len(self._frames) > 1:
                self._frames.popleft()
            out.append((key, frame.forward[:2]))
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
        trust = float(back.trust.mean())
        self._trust_total += trust
        self._links += 1
        if trust < self.cut_trust or distance > self.cut_histogram:
            self.cuts += 1
            return cur.forward
        if self.mode == "bidirectional":
            prev.ahead = self._motion.link(prev.small, cur.small, f_pc, f_cp, size)
        return self._filter(cur.ab, _warp(prev.forward, back), back.trust)

    def _filter(self, ab: np.ndarray, memory: np.ndarray, trust: np.ndarray) -> np.ndarray:
        """The filter state for a frame predicted ``ab``, given the past state ``memory``
        warped onto it: detail keeps ``strength`` x trust of the past; the region-level colour
        keeps w / (w + 1), w being the past's region weight decayed by ``region_strength``
        and cut where trust is under ``region_trust`` (newly revealed content has ~0)."""
        past = memory[:2] - ab
        detail = self.strength * trust
        state = np.empty_like(memory)
        if self.region_strength <= self.strength:  # one band: the plain recursive filter
            state[:2] = ab + detail * past
            state[2] = 1.0
            return state
        weight = self.region_strength * np.minimum(trust / self.region_trust, 1.0) * memory[2]
        region = region_mean(past, trust, self.region_cell)
        state[:2] = ab + detail * past + (weight / (weight + 1) - detail) * region
        state[2] = weight + 1
        return state

    def _emit(self) -> Output:
        """Finalize the oldest buffered frame from its causal estimate and its future."""
        frame = self._frames.popleft()
        if frame.ahead is None or not self._frames:
            return frame.key, frame.forward[:2]
        chain = [frame]
        for nxt in self._frames:
            chain.append(nxt)
            if nxt.ahead is None:
                break
        future = chain[-1].forward
        for f in reversed(chain[1:-1]):
            future = self._filter(f.ab, _warp(future, f.ahead), f.ahead.trust)
        weight = 0.5 * frame.ahead.trust
        return frame.key, _blend(frame.forward[:2], _warp(future[:2], frame.ahead), weight)
