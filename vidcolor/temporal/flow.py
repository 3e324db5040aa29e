"""Motion between two frames from their lightness, with a per-pixel trust map.

Flow is estimated with OpenCV's DIS at a reduced resolution (chroma is
smooth, so coarse motion is enough and costs about a millisecond), in both
directions. A pixel is trusted to show the same surface in both frames when
the forward and backward flows agree (Ruder et al.'s consistency test, made
soft) and the warped lightness matches, or in texture still correlates.
Occlusions, new content and flow failures get low trust, so the fresh
prediction wins there.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


@dataclass
class Link:
    """How frame ``dst`` is seen from frame ``src`` (both at model resolution).

    ``remap[y, x]`` is where pixel (x, y) of ``src`` lies in ``dst`` (a map for
    cv2.remap that pulls ``dst`` content onto ``src``), and ``trust[y, x]`` in
    0..1 says how much that pulled value may be believed.
    """

    remap: np.ndarray  # [h, w, 2] float32
    trust: np.ndarray  # [h, w] float32


def grid(h: int, w: int) -> np.ndarray:
    """Pixel coordinates [h, w, 2] (x, y), the identity map for cv2.remap."""
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return np.dstack((xs, ys))


def pull(img: np.ndarray, remap: np.ndarray) -> np.ndarray:
    """Sample ``img`` ([h, w] or [h, w, c]) at ``remap``, replicating borders."""
    return cv2.remap(img, remap, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def patch_correlation(a: np.ndarray, b: np.ndarray, size: int = 5) -> np.ndarray:
    """Zero-mean normalized cross-correlation of the ``size``-square patches around each pixel
    of two float32 images, in -1..1; 0 where either patch is flat.

    A flat patch has nothing to correlate: there the box-filter moments are float rounding
    noise, and their ratio can land far outside -1..1. The range matters because the motion
    trust falls with 1 - ZNCC: a correlation above 1 would lift the trust above 1 and push
    the blended chroma out of range.
    """
    k = (size, size)
    ma, mb = cv2.blur(a, k), cv2.blur(b, k)
    va = cv2.blur(a * a, k) - ma * ma
    vb = cv2.blur(b * b, k) - mb * mb
    cov = cv2.blur(a * b, k) - ma * mb
    energy = va * vb
    textured = energy > 1e-6
    zncc = cov / np.sqrt(np.where(textured, energy, 1.0))
    return np.where(textured, zncc, 0.0).clip(-1.0, 1.0).astype(np.float32)


class MotionEstimator:
    """Flow and trust between consecutive frames, computed at ``1/downscale`` size.

    ``flow_tolerance`` scales the forward-backward test; ``residual_sigma`` is
    the lightness mismatch (L units, 0..100) at which trust falls to 1/e;
    ``correlation`` weighs (1 - ZNCC) of 5x5 patches, which forgives residuals
    in texture that still correlates (0 turns that off); ``erode`` (pixels at
    the flow's resolution) widens distrust around occlusions.
    """

    def __init__(
        self,
        preset: str = "fast",
        downscale: int = 2,
        flow_tolerance: float = 2.0,
        residual_sigma: float = 4.0,
        erode: int = 5,
        correlation: float = 8.0,
    ) -> None:
        self._dis = cv2.DISOpticalFlow_create(PRESETS[preset])
        self.downscale = downscale
        self.flow_tolerance = flow_tolerance
        self.residual_sigma = residual_sigma
        self.correlation = correlation
        self._grids: dict[tuple[int, int], np.ndarray] = {}
        self._kernel = np.ones((erode, erode), np.uint8)

    def prepare(self, lightness: np.ndarray) -> np.ndarray:
        """Small 8-bit image of a lightness plane (L 0..100), the input to DIS."""
        h, w = lightness.shape
        s = self.downscale
        size = (max(w // s, 8), max(h // s, 8))
        small = cv2.resize(lightness, size, interpolation=cv2.INTER_AREA)
        return np.clip(small * 2.55 + 0.5, 0, 255).astype(np.uint8)

    def _grid(self, h: int, w: int) -> np.ndarray:
        key = (h, w)
        if key not in self._grids:
            self._grids[key] = grid(h, w)
        return self._grids[key]

    def flows(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(flow a->b at a's pixels, flow b->a at b's pixels) on prepared images."""
        return self._dis.calc(a, b, None), self._dis.calc(b, a, None)

    def link(
        self, src: np.ndarray, dst: np.ndarray, f_sd: np.ndarray, f_ds: np.ndarray, size: tuple
    ) -> Link:
        """Link from prepared ``src`` to ``dst`` given both flows, upsampled to ``size`` (h, w)."""
        h, w = src.shape
        small_map = self._grid(h, w) + f_sd
        back = pull(f_ds, small_map)
        u, v, bu, bv = f_sd[..., 0], f_sd[..., 1], back[..., 0], back[..., 1]
        err2 = (u + bu) ** 2 + (v + bv) ** 2
        scale2 = 0.01 * (u * u + v * v + bu * bu + bv * bv) + 0.5
        src_f = src.astype(np.float32)
        pulled = pull(dst, small_map).astype(np.float32)
        residual = src_f - pulled
        residual -= residual.mean()  # exposure changes are not motion failures
        mismatch = residual * residual / (2.55 * self.residual_sigma) ** 2
        if self.correlation > 0:
            # In texture, sub-pixel flow error alone makes a large residual: there, ask
            # whether the patches correlate instead.
            mismatch = np.minimum(mismatch, (1 - patch_correlation(src_f, pulled))
                                  * self.correlation)
        trust = np.exp(-err2 / (scale2 * self.flow_tolerance) - mismatch)
        x, y = small_map[..., 0], small_map[..., 1]
        trust *= (x > -1) & (x < w) & (y > -1) & (y < h)  # content from outside is unknown
        trust = cv2.erode(trust, self._kernel)  # stay clear of occlusion edges
        big_h, big_w = size
        flow = cv2.resize(f_sd, (big_w, big_h), interpolation=cv2.INTER_LINEAR)
        flow[..., 0] *= big_w / w
        flow[..., 1] *= big_h / h
        flow += self._grid(big_h, big_w)
        return Link(flow, cv2.resize(trust, (big_w, big_h), interpolation=cv2.INTER_LINEAR))
