"""The ``--enhance`` steps, with OpenCV: on a frame's 8-bit luma plane, and RGB balance on the
finished colour frame.

Every step changes the luma, so none is on unless asked for. They run in the fixed order of
:data:`vidcolor.look.steps.ORDER`; the four curves (contrast, brightness, power, log) are
folded into one 256-entry lookup table. Limited-range luma is worked on within its 16..235
codes, full-range on 0..255.
"""

from __future__ import annotations

import av
import cv2
import numpy as np

from .steps import CURVES, Step

TILES = (8, 8)  # CLAHE's grid
SHARPEN_SIGMA = 1.0  # px: the unsharp mask's blur
TONEMAP_SHRINK = 16  # the illumination is estimated on a plane this many times smaller
TONEMAP_SIGMA = 2.0  # px on that small plane: about 1/30 of a 1080p frame's width


def luma_range(full_range: bool) -> tuple[int, int]:
    """The codes of black and white."""
    return (0, 255) if full_range else (16, 235)


def negative_table(full_range: bool) -> np.ndarray:
    """uint8 [256]: black and white swapped within the range (limited: 16 <-> 235)."""
    low, high = luma_range(full_range)
    return (low + high - np.clip(np.arange(256), low, high)).astype(np.uint8)


def curve_table(steps: tuple[Step, ...], full_range: bool) -> np.ndarray | None:
    """The curve steps among ``steps`` as one uint8 [256] table (None: there are none)."""
    curves = [(name, values[0]) for name, values in steps if name in CURVES]
    if not curves:
        return None
    low, high = luma_range(full_range)
    v = np.clip((np.arange(256, dtype=np.float64) - low) / (high - low), 0.0, 1.0)
    for name, x in curves:
        if name == "contrast":
            v = 0.5 + x * (v - 0.5)
        elif name == "brightness":
            v = v + x
        elif name == "power":
            v = np.clip(v, 0.0, 1.0) ** x
        else:  # log
            v = np.log1p(x * np.clip(v, 0.0, 1.0)) / np.log1p(x)
    return np.clip(np.rint(low + v * (high - low)), low, high).astype(np.uint8)


def tonemap(y: np.ndarray, strength: float, full_range: bool) -> np.ndarray:
    """HDR-style local tone mapping: the log luma's large-scale illumination is pulled toward
    its mean by ``strength`` and the detail above it kept (shadows lift, highlights settle)."""
    low, high = luma_range(full_range)
    v = (y.astype(np.float32) - low) * np.float32(1 / (high - low))
    log_v = cv2.log(np.maximum(v, np.float32(1 / 255)))
    h, w = y.shape
    small = cv2.resize(log_v, (max(1, w // TONEMAP_SHRINK), max(1, h // TONEMAP_SHRINK)),
                       interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), TONEMAP_SIGMA)
    small -= np.float32(small.mean())
    base = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    v = cv2.exp(cv2.scaleAdd(base, np.float32(-strength), log_v))
    return np.clip(v * (high - low) + low + 0.5, low, high).astype(np.uint8)


def clahe(y: np.ndarray, limit: float) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=limit, tileGridSize=TILES).apply(y)


def sharpen(y: np.ndarray, amount: float) -> np.ndarray:
    """Unsharp mask: y + amount * (y - blurred y), saturated to 8 bits."""
    blurred = cv2.GaussianBlur(y, (0, 0), SHARPEN_SIGMA)
    return cv2.addWeighted(y, 1.0 + amount, blurred, -amount, 0.0)


def enhance_luma(y: np.ndarray, steps: tuple[Step, ...], full_range: bool,
                 curves: np.ndarray | None) -> np.ndarray:
    """A luma plane through the luma steps among ``steps`` (in order); ``curves``: their
    :func:`curve_table`. Returns a new plane (``y`` itself when there are none)."""
    done_curves = False
    for name, values in steps:
        if name == "tonemap":
            y = tonemap(y, values[0], full_range)
        elif name == "clahe":
            y = clahe(y, values[0])
        elif name in CURVES and not done_curves:
            y, done_curves = cv2.LUT(y, curves), True
        elif name == "sharpen":
            y = sharpen(y, values[0])
    return y


def balance_rgb(rgb: np.ndarray, gains: tuple[float, ...]) -> np.ndarray:
    """RGB [H, W, 3] (uint8 or uint16) times per-channel gains, saturated."""
    return cv2.transform(rgb, np.diag(np.asarray(gains, np.float32)))


def balance_frame(frame: av.VideoFrame, gains: tuple[float, ...]) -> av.VideoFrame:
    """RGB balance of a YUV frame: to R'G'B' and back with swscale (the frame's own matrix
    and range), so the luma changes too. Timing and colour tags are kept."""
    rgb = balance_rgb(frame.to_ndarray(format="rgb24"), gains)
    out = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format=frame.format.name, dst_colorspace=frame.colorspace,
        dst_color_range=frame.color_range)
    out.pts, out.duration = frame.pts, frame.duration
    if frame.time_base is not None:
        out.time_base = frame.time_base
    out.color_range, out.colorspace = frame.color_range, frame.colorspace
    out.color_primaries, out.color_trc = frame.color_primaries, frame.color_trc
    return out
