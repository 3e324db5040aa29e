"""A :class:`~vidcolor.specs.LookSpec` made ready for frames: what the frame chain and the
stills path call, at their fixed points.

Picklable (arrays and the spec), so a look can travel to worker processes with the specs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import av
import numpy as np

from vidcolor.colorizer import on_host
from vidcolor.io.images import read_image

from . import chroma, enhance, reference

if TYPE_CHECKING:
    import torch

    from vidcolor.specs import LookSpec


class Look:
    """The controls of ``spec``, with the reference image's palette measured once."""

    def __init__(self, spec: LookSpec) -> None:
        self.spec = spec
        self.palette = None
        if spec.reference is not None:
            self.palette = reference.palette_of(read_image(spec.reference))
        self.steps = spec.steps
        self.luma_steps = tuple(step for step in self.steps if step[0] != "rgb")
        self.gains = dict(self.steps).get("rgb")
        self.curves = {full: enhance.curve_table(self.steps, full) for full in (False, True)}

    @property
    def changes_luma(self) -> bool:
        return self.spec.changes_luma

    def invert(self, y: np.ndarray, full_range: bool) -> None:
        """``negative``: a frame's luma plane, in place, before anything else sees it."""
        if self.spec.negative:
            np.take(enhance.negative_table(full_range), y, out=y)

    def invert_image(self, image: np.ndarray) -> np.ndarray:
        """``negative`` for a still (gray, RGB or RGBA, 8 or 16 bits; alpha kept)."""
        if not self.spec.negative:
            return image
        out = image.copy()
        colour = out if out.ndim == 2 else out[..., :3]
        np.subtract(np.iinfo(image.dtype).max, colour, out=colour)
        return out

    def chroma(self, ab: np.ndarray, lightness: np.ndarray | torch.Tensor) -> np.ndarray:
        """The network's ab [2, h, w] (after the temporal stage) with its small L (host or
        device) -> the ab to paint: reference palette, then saturation, warmth and tint. The
        luma is untouched."""
        spec = self.spec
        if self.palette is not None:
            ab = reference.transfer(ab, on_host(lightness), self.palette)
        if (spec.saturation, spec.warmth, spec.tint) != (1.0, 0.0, 0.0):
            ab = chroma.adjust(ab, spec.saturation, spec.warmth, spec.tint)
        return ab

    def luma(self, y: np.ndarray, full_range: bool) -> np.ndarray:
        """The output's luma plane through the luma steps (``y`` itself when none is on)."""
        if not self.luma_steps:
            return y
        return enhance.enhance_luma(y, self.luma_steps, full_range, self.curves[full_range])

    def rgb_frame(self, frame: av.VideoFrame) -> av.VideoFrame:
        """The finished colour frame through the rgb step, if on."""
        return frame if self.gains is None else enhance.balance_frame(frame, self.gains)

    def rgb_image(self, rgb: np.ndarray) -> np.ndarray:
        """A finished colour still (RGB, 8 or 16 bits) through the rgb step, if on."""
        return rgb if self.gains is None else enhance.balance_rgb(rgb, self.gains)
