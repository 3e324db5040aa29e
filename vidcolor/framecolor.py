"""One frame's colour chain, used by the file pipeline and by live runs alike.

::

    prepare(frame) -> Slot           the frame's own 8-bit luma, and L at the network's size
    infer([slot, ...])               the network's ab for a batch of slots (slot.predicted)
    finish(slot, ab) -> frame        ab -> Cb/Cr planes, joined with the frame's own luma

The temporal stage sits between ``infer`` and ``finish``: it turns ``slot.predicted`` into the
ab that ``finish`` paints. The output's luma plane is the input's, byte for byte; only the
chroma planes are new. A :class:`~vidcolor.look.chain.Look` steps in at fixed points:
``negative`` inverts the luma in ``prepare`` (it is then the input); in ``finish`` the chroma
controls change the ab, and only the opt-in enhance steps change the luma.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import av
import numpy as np

from .colorizer import Colorizer, on_host
from .io.planes import LumaFrame, chroma_size, merge_planes, split_luma
from .look.review import beside

if TYPE_CHECKING:
    import torch

    from .look.chain import Look


@dataclass
class Slot:
    """A frame on its way: ``predicted`` is the network's ab, ``ab`` the temporal stage's."""

    luma: LumaFrame
    lightness: np.ndarray | torch.Tensor  # the network's input, where the colorizer keeps it
    predicted: np.ndarray | None = None
    ab: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        """Host memory the frame's arrays hold now (device tensors aside): what the pipeline's
        queues budget, so that they hold fewer large frames."""
        arrays = {id(a): a for a in (self.luma.y, self.luma.deep, self.lightness,
                                     self.predicted, self.ab) if isinstance(a, np.ndarray)}
        return sum(a.nbytes for a in arrays.values())

    def host_lightness(self) -> np.ndarray:
        """The network's input as a numpy array, for the temporal stage (CPU, OpenCV)."""
        return on_host(self.lightness)


class FrameColor:
    """The per-frame chain around a :class:`Colorizer`, building ``pix_fmt`` output frames.

    ``look``: the colourist controls (None: the network's colour). ``side_by_side``: each
    frame comes out as gray | colour, twice as wide (a review output).
    """

    def __init__(self, colorizer: Colorizer, pix_fmt: str = "yuv420p", look: Look | None = None,
                 side_by_side: bool = False) -> None:
        self.colorizer, self.pix_fmt = colorizer, pix_fmt
        self.look, self.side_by_side = look, side_by_side

    def prepare(self, frame: av.VideoFrame) -> Slot:
        """A decoded frame -> its luma and the network's input."""
        luma = split_luma(frame)
        if self.look is not None and self.look.spec.negative:
            luma = replace(luma, deep=None)  # the inverted 8-bit plane is the input now
            self.look.invert(luma.y, luma.full_range)
        return Slot(luma, self.colorizer.lightness_small(luma.y, luma.full_range))

    def infer(self, slots: Sequence[Slot]) -> None:
        """Predict ab for same-size slots in one call; sets each ``slot.predicted``."""
        ab = self.colorizer.infer_frames([slot.lightness for slot in slots])
        for slot, prediction in zip(slots, ab, strict=True):
            slot.predicted = prediction

    def finish(self, slot: Slot, ab: np.ndarray) -> av.VideoFrame:
        """ab at the network's size -> the colour frame, on the slot's own luma plane (or,
        with a luma-changing enhance step, on that step's result)."""
        luma, lightness = slot.luma, slot.lightness
        if self.look is not None:
            ab = self.look.chroma(ab, slot.lightness)
            y = self.look.luma(luma.y, luma.full_range)
            if y is not luma.y:
                luma = replace(luma, y=y, deep=None)
                lightness = self.colorizer.lightness_small(y, luma.full_range)
        cb, cr = self.colorizer.chroma_planes(
            ab, lightness, chroma_size(self.pix_fmt, luma.width, luma.height), luma.matrix,
            luma.full_range)
        frame = merge_planes(luma, cb, cr, self.pix_fmt)
        if self.look is not None:
            frame = self.look.rgb_frame(frame)
        return beside(slot.luma, frame) if self.side_by_side else frame
