"""Still images: one call from a path or an array to a colour image."""

from __future__ import annotations

import os

import numpy as np

from vidcolor.io.images import read_image


def colorize_image(
    image: str | os.PathLike[str] | np.ndarray,
    *,
    colorizer=None,
    weights: str | None = None,
    engine: str = "auto",
    device: str = "auto",
    size: int = 256,
) -> np.ndarray:
    """A path or a uint8 array (gray HxW or RGB HxWx3) -> colorized RGB uint8 HxWx3.

    The image's own chroma is discarded first; only its lightness is used.
    """
    if not isinstance(image, np.ndarray):
        image = read_image(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"expected a uint8 HxW or HxWx3 image, got {image.dtype} {image.shape}")
    if colorizer is None:
        from vidcolor.colorizer import Colorizer

        colorizer = Colorizer(weights=weights, engine_name=engine, device=device, size=size,
                              calls=1)
    return colorizer.colorize_rgb(image)
