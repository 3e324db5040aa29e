"""A reference palette: move a frame's a,b statistics toward a reference image's.

Colour transfer in CIELAB on a,b only (the luma stays the input's), per lightness band: the
reference's mean and spread of a and b in each of a few L* bands are measured once, when the
look is built; each frame's are measured on the network's small ab and matched to them, band
by band, with per-pixel gains and offsets that blend smoothly between band centres, so the
shadows can take the reference's shadows' colour and the highlights its highlights'.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vidcolor.color import rgb_to_lab

CENTRES = np.array([10.0, 35.0, 60.0, 85.0], np.float32)  # L* band centres
SPACING = float(CENTRES[1] - CENTRES[0])
LEAST_SHARE = 0.02  # a band holding less of the image than this takes the global statistics
LEAST_SPREAD = 2.0  # ab units: a nearly flat frame band is not stretched without limit
MOST_GAIN = 4.0
SIDE = 256  # the reference is measured at this short side (statistics need no more)


@dataclass(frozen=True)
class Palette:
    """Per band: mean and standard deviation of a and b, [bands, 2] each."""

    mean: np.ndarray
    std: np.ndarray


def band_weights(lightness: np.ndarray) -> np.ndarray:
    """Each pixel's membership of each band, [bands, N]: triangles over the centres, the end
    bands open-ended, summing to 1 per pixel."""
    distance = np.abs(lightness.reshape(1, -1) - CENTRES[:, None]) / SPACING
    weights = np.clip(1.0 - distance, 0.0, 1.0)
    low, high = lightness.reshape(-1) <= CENTRES[0], lightness.reshape(-1) >= CENTRES[-1]
    weights[0, low], weights[-1, high] = 1.0, 1.0
    return weights


def measure(lightness: np.ndarray, ab: np.ndarray) -> Palette:
    """Band statistics of ab [2, h, w] over L [h, w]; thin bands take the global ones."""
    weights = band_weights(lightness)
    values = ab.reshape(2, -1).astype(np.float32)
    total = weights.sum(axis=1)
    share = np.maximum(total, 1e-6)[:, None]
    mean = weights @ values.T / share
    std = np.sqrt(np.maximum(weights @ (values.T ** 2) / share - mean ** 2, 0.0))
    thin = total < LEAST_SHARE * values.shape[1]
    mean[thin], std[thin] = values.mean(axis=1), values.std(axis=1)
    return Palette(mean, std)


def palette_of(rgb: np.ndarray) -> Palette:
    """A reference image, RGB uint8 [H, W, 3] -> its palette."""
    h, w = rgb.shape[:2]
    scale = min(1.0, SIDE / min(h, w))
    if scale < 1.0:
        rgb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
    lab = rgb_to_lab(rgb.astype(np.float32) / 255, dim=-1)
    return measure(lab[..., 0], lab[..., 1:].transpose(2, 0, 1))


def transfer(ab: np.ndarray, lightness: np.ndarray, palette: Palette) -> np.ndarray:
    """ab [2, h, w] with its L [h, w] -> ab whose band statistics are the palette's."""
    own = measure(lightness, ab)
    gain = np.clip(palette.std / np.maximum(own.std, LEAST_SPREAD), 0.0, MOST_GAIN)
    offset = palette.mean - gain * own.mean
    out = np.empty_like(ab, dtype=np.float32)
    for channel in (0, 1):
        g = np.interp(lightness, CENTRES, gain[:, channel]).astype(np.float32)
        o = np.interp(lightness, CENTRES, offset[:, channel]).astype(np.float32)
        out[channel] = ab[channel] * g + o
    return out
