"""U-Net colorizer over an EfficientNet-Lite encoder (Lite0, Lite1 or Lite2).

The encoder is EfficientNet-Lite (Tan & Le 2019, the "Lite" variant: ReLU6,
no squeeze-excitation, fixed stem and head), defined here so the runtime needs
no third-party model package. Lite0 is the shipped default; Lite1 and Lite2 are
deeper (and Lite2 wider) for a ``quality`` model; their stage tables are read off
the ImageNet checkpoints that training starts from. Its stem takes one channel (L); training starts
it from ImageNet weights by summing the RGB kernels (see
``training/pretrained.py``). Skip taps at strides 2, 4, 8, 16 and 32 feed a
light decoder of bilinear-upsample + concat + conv steps; the head predicts ab
bins at half resolution and decodes them there or, with ``decode_pool`` 2, at a quarter
(``heads.BinnedChromaHead``).
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import ConvBNAct, UpBlock, normalize_lightness
from .heads import BinnedChromaHead

# (repeats, kernel, stride, expand ratio, output channels) per stage, per variant.
LITE_STAGES = {
    "lite0": ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
              (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)),
    "lite1": ((1, 3, 1, 1, 16), (3, 3, 2, 6, 24), (3, 5, 2, 6, 40), (4, 3, 2, 6, 80),
              (4, 5, 1, 6, 112), (5, 5, 2, 6, 192), (1, 3, 1, 6, 320)),
    "lite2": ((1, 3, 1, 1, 16), (3, 3, 2, 6, 24), (3, 5, 2, 6, 48), (4, 3, 2, 6, 88),
              (4, 5, 1, 6, 120), (5, 5, 2, 6, 208), (1, 3, 1, 6, 352)),
}
BN_EPS = 1e-3  # the epsilon the ImageNet weights were trained with


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, 1x1 project (no SE in Lite)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.expand = ConvBNAct(cin, mid, 1, act=nn.ReLU6, eps=BN_EPS) if expand != 1 else None
        self.depthwise = ConvBNAct(mid, mid, kernel, stride, groups=mid, act=nn.ReLU6, eps=BN_EPS)
        self.project = ConvBNAct(mid, cout, 1, act=None, eps=BN_EPS)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return x + y if self.residual else y


def skip_blocks(stages: tuple[tuple[int, ...], ...]) -> tuple[int, ...]:
    """The last block of each stride (2, 4, 8, 16, 32): where the U-Net taps the encoder."""
    ends, index = [], -1
    for i, (repeats, _, stride, _, _) in enumerate(stages):
        if stride == 2 and i:
            ends.append(index)
        index += repeats
    return (*ends, index)


class EfficientNetLiteEncoder(nn.Module):
    def __init__(self, variant: str = "lite0") -> None:
        super().__init__()
        if variant not in LITE_STAGES:
            raise ValueError(f"unknown EfficientNet-Lite variant {variant!r}")
        self.variant = variant
        self.stem = ConvBNAct(1, 32, 3, 2, act=nn.ReLU6, eps=BN_EPS)
        blocks, cin = [], 32
        for repeats, kernel, stride, expand, cout in LITE_STAGES[variant]:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, kernel, stride if i == 0 else 1, expand))
                cin = cout
        self.blocks = nn.ModuleList(blocks)
        self.taps = skip_blocks(LITE_STAGES[variant])
        self.skip_channels = tuple(self.blocks[i].project[0].out_channels for i in self.taps)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features, x = [], self.stem(x)
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.taps:
                features.append(x)
        return features


class EffNetLiteUNet(nn.Module):
    """L [B,1,H,W] (0..100, sides multiples of 32) -> ab [B,2,H,W]."""

    def __init__(self, num_bins: int, decoder_channels: tuple[int, ...] = (128, 64, 48, 32),
                 temperature: float = 1.0, chroma_gain: float = 1.0,
                 decode_pool: int = 1, confidence: int = 0, variant: str = "lite0",
                 gain_about_mean: bool = False) -> None:
        super().__init__()
        self.encoder = EfficientNetLiteEncoder(variant)
        skips = self.encoder.skip_channels
        ups, cin = [], skips[-1]
        for skip, cout in zip(reversed(skips[:-1]), decoder_channels, strict=True):
            ups.append(UpBlock(cin, skip, cout))
            cin = cout
        self.decoder = nn.ModuleList(ups)
        self.head = BinnedChromaHead(cin, num_bins, temperature, chroma_gain, upsample=2,
                                     decode_pool=decode_pool, confidence=confidence,
                                     gain_about_mean=gain_about_mean)

    def features(self, lightness: torch.Tensor) -> torch.Tensor:
        skips = self.encoder(normalize_lightness(lightness))
        x = skips[-1]
        for up, skip in zip(self.decoder, reversed(skips[:-1]), strict=True):
            x = up(x, skip)
        return x

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(lightness))
