"""Temporal consistency metrics for colorized video: warp error and CDC.

Warp error (Lai et al., "Learning Blind Video Temporal Consistency", 2018):
mean over t of the squared RGB difference between output frame t and output
frame t+gap warped onto it, over pixels that are not occluded. Gap 1 is the
short-term error; larger gaps are Lai's long-term error, which sees colour that
wanders slowly (a region drifting from green to beige over seconds) where
neighbouring frames barely differ. The flow comes from the ground truth, never
from the output, so a method cannot game it; it is computed directly between t
and t+gap (chaining gap-1 flows drifts: on two shared clips it left 16 % and
29 % more of the truth's own chroma error at gap 15). Flow here is OpenCV DIS (medium
preset) at the frames' resolution, with Ruder et al.'s forward-backward
occlusion test; Lai used FlowNet2, so absolute numbers are comparable between
our methods, not with the paper's tables. Frame pairs that span a scene cut
(``scene_cuts``) can be left out (``without_cuts``): colour should not persist
across a cut, so such a pair measures the cut, not the method.

CDC (Liu et al., "Temporally Consistent Video Colorization with Deep Feature
Propagation and Self-regularization Learning", 2021): mean Jensen-Shannon
divergence (natural log) between 256-bin histograms of each RGB channel of
frames i and i+k, averaged over channels, frames and k in (1, 2, 4).

Frames are RGB, [T, H, W, 3], uint8 or float in 0..1. ``warp_error`` takes any
channels-last float frames (e.g. CIELAB ab alone, [T, H, W, 2], in ab units).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from vidcolor.color import rgb_to_lab
from vidcolor.temporal.flow import grid

CDC_STEPS = (1, 2, 4)
WARP_GAPS = (1, 5, 15)  # frames: neighbours, a sixth and half a second at 30 fps
# Share of the pixels the truth's flow follows from one frame to the next under which the
# step is a scene cut: on the shared clips cuts leave 1-13 %, the fastest zoom 28 %.
CUT_COVERAGE = 0.2


@dataclass
class ReferenceMotion:
    """Ground-truth motion from each frame t to t+gap: a remap into t+gap and a visibility mask."""

    remaps: list[np.ndarray]  # [H, W, 2] float32, where pixel (x, y) of t lies in t+gap
    masks: list[np.ndarray]  # [H, W] bool, True where not occluded
    gap: int = 1


def _unit(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.dtype == np.uint8:
        return frames.astype(np.float32) / 255
    return frames.astype(np.float32, copy=False)


def _uint8(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.dtype == np.uint8:
        return frames
    return np.clip(np.rint(frames * 255), 0, 255).astype(np.uint8)


def reference_motion(reference: np.ndarray, gap: int = 1) -> ReferenceMotion:
    """Flow t -> t+gap on the ground-truth frames and its non-occlusion mask."""
    if gap < 1:
        raise ValueError(f"gap must be >= 1, got {gap}")
    lightness = rgb_to_lab(_unit(reference), dim=-1)[..., 0]
    gray = list(np.clip(lightness * 2.55 + 0.5, 0, 255).astype(np.uint8))
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    h, w = gray[0].shape
    base = grid(h, w)
    remaps, masks = [], []
    for a, b in zip(gray[:-gap], gray[gap:], strict=True):
        fwd = dis.calc(a, b, None)
        bwd = dis.calc(b, a, None)
        remap = base + fwd
        bwd_at = cv2.remap(bwd, remap, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        err = np.sum((fwd + bwd_at) ** 2, axis=2)
        bound = 0.01 * (np.sum(fwd**2, axis=2) + np.sum(bwd_at**2, axis=2)) + 0.5
        inside = (remap[..., 0] >= 0) & (remap[..., 0] <= w - 1)
        inside &= (remap[..., 1] >= 0) & (remap[..., 1] <= h - 1)
        remaps.append(remap)
        masks.append((err <= bound) & inside)
    return ReferenceMotion(remaps, masks, gap)


def warp_error(frames: np.ndarray, motion: ReferenceMotion) -> float:
    """Lai et al.'s warp error of ``frames`` along ground-truth ``motion`` (at its gap).

    Per pixel, the squared difference summed over channels; averaged over
    non-occluded pixels, then over frame pairs.
    """
    frames = _unit(frames)
    if len(frames) != len(motion.remaps) + motion.gap:
        raise ValueError("frames and reference motion differ in length")
    errors = []
    for t, (remap, mask) in enumerate(zip(motion.remaps, motion.masks, strict=True)):
        pulled = cv2.remap(frames[t + motion.gap], remap, None, cv2.INTER_LINEAR)
        sq = np.sum((frames[t] - pulled) ** 2, axis=2)
        count = int(mask.sum())
        if count:
            errors.append(float(sq[mask].sum()) / count)
    return float(np.mean(errors)) if errors else 0.0


def scene_cuts(motion: ReferenceMotion) -> list[int]:
    """The steps t -> t+1 of gap-1 ``motion`` that are scene cuts (see CUT_COVERAGE)."""
    if motion.gap != 1:
        raise ValueError(f"scene cuts are found on gap-1 motion, got gap {motion.gap}")
    return [t for t, mask in enumerate(motion.masks) if mask.mean() < CUT_COVERAGE]


def without_cuts(motion: ReferenceMotion, cuts: Sequence[int]) -> ReferenceMotion:
    """``motion`` with every frame pair that spans one of the ``cuts`` masked out whole."""
    masks = [np.zeros_like(mask) if any(t <= c < t + motion.gap for c in cuts) else mask
             for t, mask in enumerate(motion.masks)]
    return ReferenceMotion(motion.remaps, masks, motion.gap)


def camera_speed(motion: ReferenceMotion) -> float:
    """How fast the picture moves, px per frame: the mean over frame pairs of the median flow
    length (the background's when it fills most of the frame, as it does under camera motion)."""
    if not motion.remaps:
        return 0.0
    base = grid(*motion.remaps[0].shape[:2])
    speeds = [np.median(np.linalg.norm(r - base, axis=2)) for r in motion.remaps]
    return float(np.mean(speeds)) / motion.gap


def _histograms(frames: np.ndarray) -> np.ndarray:
    """[T, 3, 256] normalized per-channel histograms."""
    frames = _uint8(frames)
    t = len(frames)
    flat = frames.reshape(t, -1, 3)
    hist = np.stack(
        [np.stack([np.bincount(f[:, c], minlength=256) for c in range(3)]) for f in flat]
    ).astype(np.float64)
    return hist / flat.shape[1]


def _js(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence (nats) along the last axis."""
    m = (p + q) / 2

    def kl(x: np.ndarray) -> np.ndarray:
        ratio = np.where(x > 0, x / np.where(m > 0, m, 1), 1)
        return np.sum(x * np.log(ratio), axis=-1)

    return 0.5 * kl(p) + 0.5 * kl(q)


def cdc(frames: np.ndarray, steps: Sequence[int] = CDC_STEPS) -> float:
    """Liu et al.'s colour distribution consistency (lower is steadier)."""
    hist = _histograms(frames)
    per_step = [float(_js(hist[:-k], hist[k:]).mean()) for k in steps if k < len(hist)]
    return float(np.mean(per_step)) if per_step else 0.0
