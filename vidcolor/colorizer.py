"""From a frame's luma to its new chroma, and from a gray still to a colour one.

The network sees only lightness at its own small resolution and predicts ab
there. For video, ab is turned into Cb/Cr at that resolution and only the
chroma planes are resized to the frame's chroma size: the frame keeps its own
luma plane, so detail and brightness are exactly the input's, and no
full-resolution float RGB is ever built. For stills, the image's own full
resolution L* is kept and only ab is upsampled.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch

from .color import lab_to_rgb, luma_to_lightness, rgb_to_lab, rgb_to_ycbcr

if TYPE_CHECKING:
    from .engines.base import Engine

MULTIPLE = 32  # the network downsamples five times
AB_STEPS = 128  # chroma_table's grid points along a and b


def _round_to(value: float, multiple: int = MULTIPLE) -> int:
    return max(multiple, int(math.floor(value / multiple + 0.5)) * multiple)


@lru_cache(maxsize=4)
def chroma_table(matrix: str, full_range: bool) -> np.ndarray:
    """(Cb, Cr) code values for every (L, a, b) on a grid: [101, 128, 128, 2] uint8.

    L in steps of 1, a and b in steps of 2 from -128. Converting through this
    table costs a lookup per pixel instead of the gamma and cube roots of
    CIELAB -> sRGB -> Y'CbCr, and its grid is finer than 8-bit chroma can show.
    Built once per (matrix, range) from ``vidcolor.color``, the one definition.
    """
    axis_l = torch.arange(0, 101, dtype=torch.float32)
    axis_ab = torch.arange(-128, 128, 2, dtype=torch.float32)
    grid = torch.stack(torch.meshgrid(axis_l, axis_ab, axis_ab, indexing="ij"), 0)
    ycc = rgb_to_ycbcr(lab_to_rgb(grid, dim=0), matrix, full_range, dim=0)[1:]
    return (ycc + 0.5).clamp(0, 255).to(torch.uint8).permute(1, 2, 3, 0).contiguous().numpy()


def model_input_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """The network's input size: short side ``short_side``, aspect kept, multiples of 32."""
    scale = short_side / min(height, width)
    return _round_to(height * scale), _round_to(width * scale)


def compose_rgb(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Full-resolution L [H, W] + ab at any size [2, h, w] -> uint8 RGB [H, W, 3]."""
    h, w = lightness.shape
    ab_full = np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR) for c in ab])
    rgb = lab_to_rgb(np.concatenate((lightness[None], ab_full), 0)).transpose(1, 2, 0)
    return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)


class Colorizer:
    """Predicts chroma for gray frames with an inference engine.

    ``size`` is the short side (in pixels, rounded to a multiple of 32) at
    which the network sees each frame; the aspect ratio is kept. ``precision``
    (fp32, fp16, bf16, int8; None: the engine's default) goes to the engine.
    """

    def __init__(self, engine: Engine | None = None, *, weights: str | None = None,
                 engine_name: str = "auto", device: str = "auto", size: int = 256,
                 precision: str | None = None) -> None:
        if engine is None:
            from .engines import create_engine

            engine = create_engine(engine_name, device, weights=weights, precision=precision)
        self.engine = engine
        self.size = size

    def model_size(self, height: int, width: int) -> tuple[int, int]:
        return model_input_size(height, width, self.size)

    def lightness_small(self, luma: np.ndarray, full_range: bool) -> np.ndarray:
        """uint8 luma plane [H, W] -> L [mh, mw] float32, as the network wants it."""
        mh, mw = self.model_size(*luma.shape)
        small = cv2.resize(luma, (mw, mh), interpolation=cv2.INTER_AREA)
        return luma_to_lightness(small, full_range)

    def infer(self, lightness: np.ndarray | torch.Tensor) -> np.ndarray:
        """L [B, 1, mh, mw] -> ab [B, 2, mh, mw] float32 on the CPU."""
        batch = torch.as_tensor(lightness, dtype=torch.float32)
        return self.engine.infer(batch).float().cpu().numpy()

    def chroma_planes(self, ab: np.ndarray, lightness: np.ndarray, chroma_hw: tuple[int, int],
                      matrix: str, full_range: bool) -> tuple[np.ndarray, np.ndarray]:
        """ab [2, mh, mw] with its L [mh, mw] -> (Cb, Cr) uint8 planes of size ``chroma_hw``."""
        table = chroma_table(matrix, full_range).reshape(-1, 2)
        li = np.clip(lightness + 0.5, 0, 100).astype(np.int32)
        ai, bi = (np.clip((c + 129) * 0.5, 0, AB_STEPS - 1).astype(np.int32) for c in ab)
        cbcr = table[(li * AB_STEPS + ai) * AB_STEPS + bi]
        h, w = chroma_hw
        return tuple(cv2.resize(np.ascontiguousarray(cbcr[..., i]), (w, h),
                                interpolation=cv2.INTER_LINEAR) for i in (0, 1))

    def predict_ab(self, lightness: np.ndarray) -> np.ndarray:
        """Full-resolution L [H, W] -> ab [2, mh, mw] at the network's resolution."""
        mh, mw = self.model_size(*lightness.shape)
        small = cv2.resize(lightness, (mw, mh), interpolation=cv2.INTER_AREA)
        return self.infer(small[None, None])[0]

    def colorize_rgb(self, image: np.ndarray) -> np.ndarray:
        """uint8 RGB (or gray) still -> uint8 RGB; its own L* is kept, its chroma replaced."""
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        lightness = rgb_to_lab(image[..., :3].astype(np.float32) / 255, dim=-1)[..., 0]
        return compose_rgb(lightness, self.predict_ab(lightness))
