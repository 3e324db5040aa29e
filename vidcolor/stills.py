"""Still images: one call from a path or an array to a colour image, and the pages of a file
colorized with their alpha and depth kept.

A look acts as on video frames, in the same order: ``negative`` inverts the image first, the
chroma controls change the predicted ab, the luma steps work on the 8-bit gray codes of the
image's lightness (so a 16-bit still with a luma step has 8-bit lightness), rgb on the result.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import cv2
import numpy as np

from vidcolor.color import lightness_table
from vidcolor.colorizer import compose_rgb, still_lightness
from vidcolor.io.images import read_pages
from vidcolor.specs import LookSpec, ModelSpec

if TYPE_CHECKING:
    from vidcolor.colorizer import Colorizer
    from vidcolor.look.chain import Look


def colorize_image(
    image: str | os.PathLike[str] | np.ndarray,
    *,
    model: ModelSpec | None = None,
    colorizer: Colorizer | None = None,
    look: LookSpec = LookSpec(),
) -> np.ndarray:
    """A path or an array -> the colour image, as :func:`colorize_page` makes it.

    An array is gray HxW, RGB HxWx3 or RGBA HxWx4, uint8 or uint16; the result is RGB (RGBA
    with the image's own alpha) of the same type, as the command writes stills. A path is read
    whole; a file of several pages (a multipage TIFF) is refused rather than cut to its first:
    the command colorizes every page. The image's own chroma is discarded first; only its
    lightness is used. ``colorizer``: a ready one (reuse it across images); else one is built
    from ``model`` (default: the shipped model), making one call at a time on every core.
    ``look``: colourist controls.
    """
    if colorizer is not None and model is not None:
        raise ValueError("give a model spec or a ready colorizer, not both")
    if not isinstance(image, np.ndarray):
        pages = read_pages(image)
        if len(pages) > 1:
            raise ValueError(f"{image} has {len(pages)} pages; colorize_image takes one image "
                             "(the vidcolor command colorizes every page of a file)")
        image = pages[0]
    if image.dtype not in (np.uint8, np.uint16) or not (
            image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise ValueError("expected a uint8 or uint16 HxW, HxWx3 or HxWx4 image, got "
                         f"{image.dtype} {image.shape}")
    colorizer = colorizer or (model or ModelSpec()).build(calls=1)
    return colorize_page(image, colorizer, look.build())


def colorize_page(page: np.ndarray, colorizer: Colorizer, look: Look | None = None) -> np.ndarray:
    """A page from :func:`vidcolor.io.images.read_pages` (gray, RGB or RGBA; uint8 or uint16)
    -> RGB of its type, or RGBA with the page's own alpha, bit for bit."""
    channels = 4 if page.ndim == 3 and page.shape[2] == 4 else 3
    out = np.empty(page.shape[:2] + (channels,), page.dtype)
    if look is None:
        colorizer.colorize_rgb(page, out=out[..., :3])
    else:
        _with_look(look.invert_image(page), colorizer, look, out[..., :3])
    if channels == 4:
        out[..., 3] = page[..., 3]
    return out


def _with_look(page: np.ndarray, colorizer: Colorizer, look: Look, out: np.ndarray) -> None:
    """The page's own lightness, the network's ab through the look's chroma controls, then
    its luma steps and rgb balance, into ``out`` (RGB of the page's type)."""
    lightness = still_lightness(page)
    ab = colorizer.predict_ab(lightness)
    small = cv2.resize(lightness, ab.shape[:0:-1], interpolation=cv2.INTER_AREA)
    ab = look.chroma(ab, small)
    if look.luma_steps:
        lightness = _lightness_through(look, lightness)
    compose_rgb(lightness, ab, out)
    if look.gains is not None:
        out[...] = look.rgb_image(out)


def _lightness_through(look: Look, lightness: np.ndarray) -> np.ndarray:
    """Full-resolution L* through the look's luma steps, as the 8-bit codes of its grays."""
    table = lightness_table(True)
    codes = np.rint(np.interp(lightness, table, np.arange(256, dtype=np.float32))).astype(np.uint8)
    return table[look.luma(codes, True)]

