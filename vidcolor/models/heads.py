"""Chroma heads: how a network's features become a,b.

Colour is ambiguous (a shirt may be red or blue), so the network predicts a
distribution over quantized ab bins rather than one value, and the head turns
that distribution into a colour with the annealed mean of Zhang et al. (2016):
temperature 1 is the distribution's mean (the best guess in the squared-error
sense); lower temperatures move towards the mode (more vivid, less safe).
``chroma_gain`` then scales the result: for a calibrated mean, a gain k costs
only (k - 1)^2 of the chroma energy in squared error while restoring the
saturation that averaging removes. With ``gain_about_mean`` the gain stretches each
image's chroma about the image's own mean colour instead of about gray: the colour
contrast grows as before, but a cast the network puts over a whole picture (its warm
lean) is kept as predicted rather than amplified, and a cast is where a gain about gray
spends much of its error. At equal colourfulness on the validation photos it bought the
round-1 network up to 0.18 dB on objects and 6-12 % less chroma on neutral pixels (level on
scenes); the round-2 default and the quality model use it (engines/README.md).

``decode_pool`` decodes at a coarser grid than the features: the classifier is a 1x1 conv, so
classifying 2x2-averaged features is exactly averaging the 2x2 logits, and the softmax and
mean, the costliest part of the head, then run on a quarter of the positions. Chroma is
smooth: on the shared validation photos, decode_pool 2 scored as half-resolution decoding
did (imagenet PSNR 22.91 vs 22.87 dB, sun_hays80 23.25 vs 23.23) with the network 1.23x
faster (engines/README.md).

``ConfidenceGate`` (optional, ``confidence`` hidden channels) is a learned, per-position
version of the gain: a small branch over the same features predicts how much of the decoded
chroma to keep (0..2), trained against the truth with the rest of the network frozen. A global
gain or an entropy-driven one scales every uncertain region alike; the gate can learn that a
facade or an overcast sky is gray while grass and skin are sure.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def apply_gain(ab: torch.Tensor, gain: float, about_mean: bool) -> torch.Tensor:
    """ab [B, 2, h, w] stretched by ``gain`` about gray or, ``about_mean``, about each image's
    own mean colour."""
    if not about_mean:
        return ab * gain
    mean = ab.mean(dim=(2, 3), keepdim=True)
    return mean + (ab - mean) * gain


def ab_grid(step: float = 10.0, limit: float = 110.0) -> torch.Tensor:
    """All candidate bin centres on a regular ab grid, shape [Q, 2]."""
    axis = torch.arange(-limit, limit + step / 2, step)
    a, b = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack((a.flatten(), b.flatten()), 1)


class ConfidenceGate(nn.Module):
    """Features [B, C, h, w] and their bin logits -> how much chroma to keep [B, 1, h, w], 0..2.

    It sees the features through a 3x3 conv (the neighbourhood), the image-wide mean of that
    conv's activations (what the scene is: an overcast street is gray everywhere) and the
    normalized entropy of the bin distribution (how unsure the classifier is, a nonlinear
    function of the logits the conv could not easily form). Starts as the identity (gate 1).
    """

    def __init__(self, in_channels: int, hidden: int) -> None:
        super().__init__()
        self.local = nn.Sequential(nn.Conv2d(in_channels + 1, hidden, 3, padding=1), nn.ReLU())
        self.position = nn.Conv2d(hidden, 1, 1)
        self.scene = nn.Conv2d(hidden, 1, 1, bias=False)
        for layer in (self.position, self.scene):
            nn.init.zeros_(layer.weight)
        nn.init.zeros_(self.position.bias)

    def forward(self, features: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        log_probs = torch.log_softmax(logits.float().permute(0, 2, 3, 1), dim=-1)
        entropy = -(log_probs.exp() * log_probs).sum(-1)[:, None] / math.log(logits.shape[1])
        hidden = self.local(torch.cat((features, entropy.to(features.dtype)), 1))
        scene = self.scene(hidden.mean(dim=(2, 3), keepdim=True))
        return 2 * torch.sigmoid(self.position(hidden) + scene)


class BinnedChromaHead(nn.Module):
    """1x1 conv to bin logits, annealed-mean decode, gate, gain, upsample to input size.

    ``upsample`` is the features' stride; ``decode_pool`` the extra factor decoding runs at;
    ``confidence`` the gate's hidden channels (0: no gate).
    """

    def __init__(self, in_channels: int, num_bins: int, temperature: float = 1.0,
                 chroma_gain: float = 1.0, upsample: int = 2, decode_pool: int = 1,
                 confidence: int = 0, gain_about_mean: bool = False) -> None:
        super().__init__()
        self.classifier = nn.Conv2d(in_channels, num_bins, 1)
        self.gate = ConfidenceGate(in_channels, confidence) if confidence else None
        self.register_buffer("bin_centers", torch.zeros(num_bins, 2))
        self.temperature = temperature
        self.chroma_gain = chroma_gain
        self.upsample = upsample
        self.decode_pool = decode_pool
        self.gain_about_mean = gain_about_mean

    def extra_repr(self) -> str:
        # Part of the model's repr, so caches keyed on it (ONNX, TensorRT) see the decode.
        return (f"temperature={self.temperature}, chroma_gain={self.chroma_gain}, "
                f"upsample={self.upsample}, decode_pool={self.decode_pool}, "
                f"gain_about_mean={self.gain_about_mean}")

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Bin logits at the features' resolution (what training scores)."""
        return self.classifier(features)

    def pooled(self, features: torch.Tensor) -> torch.Tensor:
        """Features at the resolution decoding runs at (``decode_pool`` coarser)."""
        return F.avg_pool2d(features, self.decode_pool) if self.decode_pool > 1 else features

    def decode_logits(self, features: torch.Tensor) -> torch.Tensor:
        """Bin logits at the resolution decoding runs at."""
        return self.classifier(self.pooled(features))

    def decode(self, logits: torch.Tensor) -> torch.Tensor:
        """Bin logits [B, Q, h, w] -> ab [B, 2, h, w]."""
        # Softmax over the last axis and a plain matmul: ONNX Runtime runs this
        # channels-last form about ten times faster than softmax over dim 1 + einsum.
        probs = torch.softmax(logits.float().permute(0, 2, 3, 1) / self.temperature, dim=-1)
        ab = (probs @ self.bin_centers.float()).permute(0, 3, 1, 2)
        return apply_gain(ab, self.chroma_gain, self.gain_about_mean)

    def chroma(self, features: torch.Tensor) -> torch.Tensor:
        """ab at the decoding resolution: decoded, gated where the head has a gate, gained."""
        pooled = self.pooled(features)
        logits = self.classifier(pooled)
        ab = self.decode(logits)
        return ab * self.gate(pooled, logits) if self.gate is not None else ab

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        ab = self.chroma(features)
        scale = self.upsample * self.decode_pool
        if scale > 1:
            ab = F.interpolate(ab, scale_factor=scale, mode="bilinear", align_corners=False)
        return ab
