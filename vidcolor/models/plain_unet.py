"""A plain from-scratch U-Net colorizer: small, dependency-free, quick to build.

Useful as a fast test model and as a baseline; the shipped model is
``effnet_lite_unet``, whose pretrained encoder knows what it is looking at.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import ConvBNAct, UpBlock, normalize_lightness
from .heads import BinnedChromaHead


class PlainUNet(nn.Module):
    """L [B,1,H,W] -> ab [B,2,H,W]; ``channels`` per level, each level halves the size."""

    def __init__(self, num_bins: int, channels: tuple[int, ...] = (16, 32, 64, 128, 192),
                 temperature: float = 1.0, chroma_gain: float = 1.0,
                 gain_about_mean: bool = False) -> None:
        super().__init__()
        downs, cin = [], 1
        for i, cout in enumerate(channels):
            downs.append(nn.Sequential(ConvBNAct(cin, cout, stride=1 if i == 0 else 2),
                                       ConvBNAct(cout, cout)))
            cin = cout
        self.encoder = nn.ModuleList(downs)
        self.decoder = nn.ModuleList(
            UpBlock(cin_, skip, skip) for cin_, skip in
            zip(reversed(channels[1:]), reversed(channels[:-1]), strict=True))
        self.head = BinnedChromaHead(channels[0], num_bins, temperature, chroma_gain, upsample=1,
                                     gain_about_mean=gain_about_mean)

    def features(self, lightness: torch.Tensor) -> torch.Tensor:
        skips, x = [], normalize_lightness(lightness)
        for down in self.encoder:
            x = down(x)
            skips.append(x)
        for up, skip in zip(self.decoder, reversed(skips[:-1]), strict=True):
            x = up(x, skip)
        return x

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(lightness))
