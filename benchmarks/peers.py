"""Peer architectures, for speed comparison only (random weights, never for colour).

Both follow vidcolor's contract (L [B,1,H,W] 0..100 -> ab [B,2,H,W]) so they run through the
same engines unchanged.

* :class:`ECCV16` is the network of Zhang, Isola & Efros, "Colorful Image Colorization"
  (ECCV 2016), layer for layer as in the authors' PyTorch port: eight VGG-style conv blocks
  (dilated in blocks 5-6), 313 ab-bin logits at 1/4 resolution, softmax, 1x1 to ab, x4 upsample.
  Its native input is 224x224.
* :class:`DeOldifyUNet` approximates DeOldify's "artistic" generator: a ResNet-34 encoder under
  fastai's DynamicUnet with the wide-deep decoder (``nf_factor=1.5``), pixel-shuffle upsampling,
  self-attention after the second decoder block, and a final residual block. Differences from the
  original: one input channel (DeOldify takes gray as 3 channels) and two output channels (it
  predicts RGB), no ICNR init or blur (speed-neutral). DeOldify renders video at
  ``render_factor * 16`` pixels square, 21 * 16 = 336 by default; the engines take sides that
  are multiples of 32, so it runs at 320 (render factor 20), 10 % fewer pixels: in its favour.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

ECCV16_SIZE = 224
DEOLDIFY_RENDER_SIZE = 20 * 16


def _convs(cin: int, cout: int, count: int, *, stride_last: int = 1, dilation: int = 1):
    layers: list[nn.Module] = []
    for i in range(count):
        stride = stride_last if i == count - 1 else 1
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, stride, dilation, dilation),
                   nn.ReLU(inplace=True)]
    return layers


class ECCV16(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        blocks = [
            _convs(1, 64, 2, stride_last=2),
            _convs(64, 128, 2, stride_last=2),
            _convs(128, 256, 3, stride_last=2),
            _convs(256, 512, 3),
            _convs(512, 512, 3, dilation=2),
            _convs(512, 512, 3, dilation=2),
            _convs(512, 512, 3),
        ]
        self.body = nn.Sequential(
            *[nn.Sequential(*block, nn.BatchNorm2d(block[-2].out_channels)) for block in blocks]
        )
        self.block8 = nn.Sequential(
            nn.ConvTranspose2d(512, 256, 4, 2, 1), nn.ReLU(inplace=True),
            *_convs(256, 256, 2), nn.Conv2d(256, 313, 1),
        )
        self.to_ab = nn.Conv2d(313, 2, 1, bias=False)

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        logits = self.block8(self.body((L - 50) / 100))
        ab = self.to_ab(torch.softmax(logits, 1)) * 110
        return F.interpolate(ab, scale_factor=4, mode="bilinear", align_corners=False)


def _conv_bn_relu(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class _BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = _conv_bn_relu(cin, cout, 3, stride)
        self.conv2 = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.down = nn.Identity()
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv2(self.conv1(x)) + self.down(x))


class _ResNet34(nn.Module):
    """Returns the stem and layer 1-4 features (strides 2, 4, 8, 16, 32)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = _conv_bn_relu(1, 64, 7, 2)
        layers, cin = [], 64
        for i, (count, cout) in enumerate(((3, 64), (4, 128), (6, 256), (3, 512))):
            blocks = [_BasicBlock(cin if j == 0 else cout, cout, 2 if i and j == 0 else 1)
                      for j in range(count)]
            layers.append(nn.Sequential(*blocks))
            cin = cout
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        features = [x]
        x = F.max_pool2d(x, 3, 2, 1)
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return features


class _SelfAttention(nn.Module):
    """SAGAN self-attention, as in fastai's ``SelfAttention``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.query = nn.Conv1d(channels, channels // 8, 1)
        self.key = nn.Conv1d(channels, channels // 8, 1)
        self.value = nn.Conv1d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.tensor(0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(2)
        q, k, v = self.query(flat), self.key(flat), self.value(flat)
        attention = torch.softmax(torch.bmm(q.transpose(1, 2), k), dim=1)
        return x + self.gamma * torch.bmm(v, attention).view_as(x)


class _UnetBlockDeep(nn.Module):
    def __init__(self, up_in: int, skip: int, out: int, attention: bool) -> None:
        super().__init__()
        self.shuffle = nn.Sequential(nn.Conv2d(up_in, up_in // 2 * 4, 1), nn.ReLU(inplace=True),
                                     nn.PixelShuffle(2))
        self.skip_bn = nn.BatchNorm2d(skip)
        self.conv1 = _conv_bn_relu(up_in // 2 + skip, out)
        self.conv2 = _conv_bn_relu(out, out)
        self.attention = _SelfAttention(out) if attention else nn.Identity()

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = torch.cat((self.shuffle(x), self.skip_bn(skip)), 1)
        return self.attention(self.conv2(self.conv1(F.relu(x))))


class DeOldifyUNet(nn.Module):
    def __init__(self, nf_factor: float = 1.5) -> None:
        super().__init__()
        self.encoder = _ResNet34()
        self.middle = nn.Sequential(nn.BatchNorm2d(512), nn.ReLU(inplace=True),
                                    _conv_bn_relu(512, 1024), _conv_bn_relu(1024, 512))
        blocks, up_in = [], 512
        for i, skip in enumerate((256, 128, 64, 64)):
            final = i == 3
            cin = up_in // 2 + skip
            out = int((cin // 2 if final else cin) * nf_factor)
            blocks.append(_UnetBlockDeep(up_in, skip, out, attention=i == 1))
            up_in = out
        self.decoder = nn.ModuleList(blocks)
        self.final_shuffle = nn.Sequential(nn.Conv2d(up_in, up_in * 4, 1),
                                           nn.ReLU(inplace=True), nn.PixelShuffle(2))
        width = up_in + 1
        self.res = nn.Sequential(_conv_bn_relu(width, width), _conv_bn_relu(width, width))
        self.out = nn.Conv2d(width, 2, 1)

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        x = L / 50 - 1
        features = self.encoder(x)
        y = self.middle(features[-1])
        for block, skip in zip(self.decoder, reversed(features[:-1]), strict=True):
            y = block(y, skip)
        y = torch.cat((self.final_shuffle(y), x), 1)
        y = y + self.res(y)
        return torch.tanh(self.out(y)) * 110


PEERS = {
    "eccv16": (ECCV16, ECCV16_SIZE),
    "deoldify_resnet34": (DeOldifyUNet, DEOLDIFY_RENDER_SIZE),
}
