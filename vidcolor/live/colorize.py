"""One frame in, one coloured frame out: the shared frame chain and a causal temporal stage.

Live runs never batch or look ahead (both would add delay). The chain is the file pipeline's
(:class:`vidcolor.framecolor.FrameColor`): the input's luma passes through untouched and only
the chroma planes are predicted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import av

from vidcolor.framecolor import FrameColor

if TYPE_CHECKING:
    from vidcolor.colorizer import Colorizer
    from vidcolor.look.chain import Look
    from vidcolor.temporal import TemporalStage

PIX_FMT = "yuv420p"


class FrameColorizer:
    """``temporal``: a causal :class:`~vidcolor.temporal.TemporalStage`, or None; ``look``:
    the colourist controls, as for files."""

    def __init__(self, colorizer: Colorizer, temporal: TemporalStage | None = None,
                 look: Look | None = None) -> None:
        if temporal is not None and temporal.window:
            raise ValueError("live runs need a temporal stage without look-ahead (causal)")
        self.chain, self.temporal = FrameColor(colorizer, PIX_FMT, look), temporal

    @property
    def engine(self):
        """The colorizer's engine (``name`` and ``device``)."""
        return self.chain.colorizer.engine

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        slot = self.chain.prepare(frame)
        self.chain.infer([slot])
        ab = slot.predicted
        if self.temporal is not None:
            ((_, ab),) = self.temporal.push(0, slot.host_lightness(), ab)
        return self.chain.finish(slot, ab)

    def reset(self) -> None:
        """Forget motion history (after a reconnect the next frame is a new scene)."""
        if self.temporal is not None:
            self.temporal.reset()
