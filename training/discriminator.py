"""The critic of the adversarial option (``train --gan``): a PatchGAN over (L, ab).

Cross-entropy over bins is right on average, and the annealed mean of an unsure
distribution is a dull, plausible brown. A critic that sees small patches of
lightness with their chroma and tells the truth's from the network's rewards
chroma that looks like real colour where the lightness says what the surface is
(Isola et al. 2017's PatchGAN; DeOldify's NoGAN: a pretrained generator, the
critic trained alone first, then a short adversarial phase). Training-time only:
the runtime never sees it.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm

L_SCALE, AB_SCALE = 50.0, 110.0  # L 0..100 -> -1..1, ab -> about -1..1


class PatchDiscriminator(nn.Module):
    """(L [B, 1, h, w], ab [B, 2, h, w]) -> realness per patch [B, 1, h/8, w/8].

    Three stride-2 4x4 convolutions and two stride-1 ones (a 70-pixel receptive field at
    ``width`` 64), spectrally normalized so the critic stays Lipschitz and the short
    adversarial phase stable on small batches.
    """

    def __init__(self, width: int = 64, downsamplings: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for i in range(downsamplings + 1):
            out = width * 2 ** min(i, 3)
            stride = 2 if i < downsamplings else 1
            layers += [spectral_norm(nn.Conv2d(channels, out, 4, stride, 1)), nn.LeakyReLU(0.2)]
            channels = out
        layers.append(spectral_norm(nn.Conv2d(channels, 1, 4, 1, 1)))
        self.net = nn.Sequential(*layers)

    def forward(self, lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        if lightness.shape[-2:] != ab.shape[-2:]:
            lightness = F.adaptive_avg_pool2d(lightness, ab.shape[-2:])
        return self.net(torch.cat((lightness / L_SCALE - 1.0, ab / AB_SCALE), 1))


def critic_hinge(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The critic's hinge loss: real patches above +1, the network's below -1."""
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def generator_hinge(fake: torch.Tensor) -> torch.Tensor:
    """The network's adversarial loss: raise the critic's score of its own chroma."""
    return -fake.mean()
