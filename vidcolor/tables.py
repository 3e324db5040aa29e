"""The (L, a, b) -> (Cb, Cr) lookup table that turns predicted chroma into code values.

Shared by the host (numpy/OpenCV) and device (torch) plane paths, so both index it alike.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypeVar

import numpy as np
import torch

from .color import lab_to_rgb, rgb_to_ycbcr

AB_STEPS = 128  # the table's grid points along a and b
Array = TypeVar("Array", torch.Tensor, np.ndarray)


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


def table_index(lightness: Array, a: Array, b: Array) -> Array:
    """Each pixel's row in ``chroma_table(...).reshape(-1, 2)``: nearest L, a and b below."""
    li = (lightness + 0.5).clip(0, 100)
    ai, bi = (((c + 129) * 0.5).clip(0, AB_STEPS - 1) for c in (a, b))
    return (_integer(li) * AB_STEPS + _integer(ai)) * AB_STEPS + _integer(bi)


def _integer(x: Array) -> Array:
    """Truncate non-negative values to integers, numpy or torch alike."""
    return x.long() if isinstance(x, torch.Tensor) else x.astype(np.int32)
