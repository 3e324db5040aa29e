"""Ensemble: U-Nets trained apart whose chroma is averaged (the ``quality`` model).

Two networks trained on different data mixes are wrong in different places, so the mean
of their colours is more often right than either: on the validation photos an
EfficientNet-Lite0 and a Lite2 U-Net averaged scored 0.11 to 0.37 dB above the round-1
Lite0 alone and 0.09 to 0.24 dB above the round-2 default at equal colourfulness
(engines/README.md). It costs the members' time added together (2.2x the default's), so it
is for files, not for live sources.

Each member decodes its own bins at gain 1 and temperature ``temperature``; the mean is
then stretched by ``chroma_gain`` about gray or about the image's mean colour, as one
network's head does. The members must decode at the same resolution.

``flip`` also runs every member on the mirrored image and mirrors its colours back before
averaging: a network is not exactly mirror-symmetric, so the mirrored view is a further,
free member at twice the time.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .heads import apply_gain


class EnsembleHead(nn.Module):
    """The members' heads seen as one: the decode settings the tools sweep, and ``chroma``
    over the members' features."""

    def __init__(self, heads: list[nn.Module], temperature: float, chroma_gain: float,
                 gain_about_mean: bool, flip: bool = False) -> None:
        super().__init__()
        self.heads = heads  # the members' own modules: a plain list, not registered twice
        self.temperature = temperature
        self.chroma_gain = chroma_gain
        self.gain_about_mean = gain_about_mean
        self.flip = flip
        scales = {h.upsample * h.decode_pool for h in heads}
        if len(scales) != 1:
            raise ValueError("ensemble members must decode at the same resolution")
        self.scale = scales.pop()

    def extra_repr(self) -> str:
        # Part of the model's repr, so caches keyed on it (ONNX, TensorRT) see the decode.
        return (f"temperature={self.temperature}, chroma_gain={self.chroma_gain}, "
                f"gain_about_mean={self.gain_about_mean}, flip={self.flip}")

    def chroma(self, features: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The members' mean ab at the decoding resolution, gained."""
        total = None
        for head, member_features in zip(self.heads, features, strict=True):
            head.temperature = self.temperature
            ab = head.chroma(member_features)
            total = ab if total is None else total + ab
        if self.flip:  # the batch holds the images, then their mirrors
            upright, mirrored = total.chunk(2)
            total = (upright + mirrored.flip(-1)) / 2
        return apply_gain(total / len(self.heads), self.chroma_gain, self.gain_about_mean)

    def forward(self, features: tuple[torch.Tensor, ...]) -> torch.Tensor:
        ab = self.chroma(features)
        if self.scale > 1:
            ab = F.interpolate(ab, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return ab


class Ensemble(nn.Module):
    """L [B,1,H,W] (0..100, sides multiples of 32) -> the members' mean ab [B,2,H,W].

    ``members``: each member's own config (an architecture of the registry); their decode
    gains are set to 1 here, the ensemble's gain applies once to the mean. ``flip``: each
    member also sees the mirrored image.
    """

    def __init__(self, members: tuple[dict[str, Any], ...], temperature: float = 1.0,
                 chroma_gain: float = 1.0, gain_about_mean: bool = False,
                 flip: bool = False) -> None:
        super().__init__()
        from .registry import build_model  # the registry lists this architecture too

        self.members = nn.ModuleList(
            build_model({**m, "chroma_gain": 1.0, "gain_about_mean": False}) for m in members)
        self.head = EnsembleHead([m.head for m in self.members], temperature, chroma_gain,
                                 gain_about_mean, flip)

    def features(self, lightness: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.head.flip:
            lightness = torch.cat((lightness, lightness.flip(-1)))
        return tuple(member.features(lightness) for member in self.members)

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(lightness))
