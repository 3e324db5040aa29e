"""Still images: one call from a path or an array to a colour image, and the pages of a file
colorized with their alpha and depth kept."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from vidcolor.io.images import read_image
from vidcolor.specs import ModelSpec

if TYPE_CHECKING:
    from vidcolor.colorizer import Colorizer


def colorize_image(
    image: str | os.PathLike[str] | np.ndarray,
    *,
    model: ModelSpec | None = None,
    colorizer: Colorizer | None = None,
) -> np.ndarray:
    """A path or a uint8 array (gray HxW or RGB HxWx3) -> colorized RGB uint8 HxWx3.

    The image's own chroma is discarded first; only its lightness is used. ``colorizer``: a
    ready one (reuse it across images); else one is built from ``model`` (default: the
    shipped model), making one call at a time on every core.
    """
    if colorizer is not None and model is not None:
        raise ValueError("give a model spec or a ready colorizer, not both")
    if not isinstance(image, np.ndarray):
        image = read_image(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected a uint8 HxW or HxWx3 image, got {image.dtype} {image.shape}")
    colorizer = colorizer or (model or ModelSpec()).build(calls=1)
    return colorizer.colorize_rgb(image)


def colorize_page(page: np.ndarray, colorizer: Colorizer) -> np.ndarray:
    """A page from :func:`vidcolor.io.images.read_pages` (gray, RGB or RGBA; uint8 or uint16)
    -> RGB of its type, or RGBA with the page's own alpha, bit for bit."""
    channels = 4 if page.ndim == 3 and page.shape[2] == 4 else 3
    out = np.empty(page.shape[:2] + (channels,), page.dtype)
    colorizer.colorize_rgb(page, out=out[..., :3])
    if channels == 4:
        out[..., 3] = page[..., 3]
    return out
