"""One frame in, one coloured frame out: the colorizer and the causal temporal stage.

Live runs never batch or look ahead (both would add delay); the input's luma passes through
untouched (``vidcolor.io.planes``) and only the chroma planes are predicted.
"""

from __future__ import annotations

import av

from vidcolor.colorizer import on_host
from vidcolor.io.planes import chroma_size, merge_planes, split_luma

PIX_FMT = "yuv420p"


class FrameColorizer:
    """``colorizer`` follows the ``vidcolor.colorizer.Colorizer`` contract; ``temporal`` is a
    ``TemporalStage`` in causal mode (or None)."""

    def __init__(self, colorizer, temporal=None) -> None:
        if temporal is not None and getattr(temporal, "window", 0):
            raise ValueError("live runs need a temporal stage without look-ahead (causal)")
        self.colorizer, self.temporal = colorizer, temporal

    @property
    def engine(self) -> str:
        engine = getattr(self.colorizer, "engine", None)
        return f"{getattr(engine, 'name', '?')}/{getattr(engine, 'device', '?')}"

    def __call__(self, frame: av.VideoFrame) -> av.VideoFrame:
        luma = split_luma(frame)
        lightness = self.colorizer.lightness_small(luma.y, luma.full_range)
        ab = self.colorizer.infer_frames([lightness])[0]
        if self.temporal is not None:
            ((_, ab),) = self.temporal.push(0, on_host(lightness), ab)
        cb, cr = self.colorizer.chroma_planes(
            ab, lightness, chroma_size(PIX_FMT, luma.width, luma.height), luma.matrix,
            luma.full_range)
        return merge_planes(luma, cb, cr, PIX_FMT)

    def reset(self) -> None:
        """Forget motion history (after a reconnect the next frame is a new scene)."""
        if self.temporal is not None:
            self.temporal.reset()
