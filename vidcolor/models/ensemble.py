"""Ensemble: U-Nets trained apart whose answers are combined (the ``quality`` model).

Two networks trained on different data mixes are wrong in different places, so the mean
of their colours is more often right than either: on the validation photos an
EfficientNet-Lite0 and a Lite2 U-Net averaged scored 0.11 to 0.37 dB above the round-1
Lite0 alone and 0.09 to 0.24 dB above the round-2 default at equal colourfulness
(engines/README.md). It costs the members' time added together (2.2x the default's), so it
is for files, not for live sources.

``combine`` says how the members' answers meet. ``mean``: each member decodes its own bins
at gain 1 and temperature ``temperature`` and their colours are averaged (the mixture of
their distributions). ``product``: a product of experts (Hinton 2002): their bin logits are
averaged on the bins every member has (the geometric mean of their distributions) and that
one distribution is decoded at ``temperature``. A colour one member finds unlikely keeps
little mass, where the mixture keeps half of it: where the members disagree the product
hedges towards the colours both allow, so less chroma lands on gray things. On the validation
photos the shipped pair combined so (temperature 0.9, chosen on the calibration split) scored
+0.01 to +0.06 dB, +0.0006 to +0.0008 AuC and 5 to 9 % less chroma on neutral pixels than
their mean at equal colourfulness (engines/README.md).
Either way the result is stretched by ``chroma_gain`` about gray or about the image's mean
colour, as one network's head does. The members must decode at the same resolution.

``flip`` also runs every member on the mirrored image and mirrors its colours back before
averaging: a network is not exactly mirror-symmetric, so the mirrored view is a further,
free member at twice the time (for ``product``, its logits join the product).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from .heads import apply_gain

COMBINES = ("mean", "product")


def shared_bins(centers: list[torch.Tensor],
                reference: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Networks' bin centres [Q_i, 2] against ``reference`` [Q, 2]: for each network, the index
    of its bin at every reference bin [Q], and which reference bins every network has [Q]
    (networks trained on other data visit other bins)."""
    reference = reference.float()
    indices, shared = [], None
    for member_centers in centers:
        same = (member_centers.float()[:, None] - reference[None]).abs().amax(-1) < 1e-3
        indices.append(same.to(torch.uint8).argmax(0))
        shared = same.any(0) if shared is None else shared & same.any(0)
    return indices, shared


def product_classifiers(heads: list[nn.Module],
                        reference: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Networks' chroma heads -> 1x1 conv weights and biases whose outputs, summed over the
    networks, are their product of experts as logits on the ``reference`` bins: the mean of
    their logits, which is the mean of their log-probabilities (each network's normalizer is
    a constant the softmax drops). The bin selection and the 1/N are folded into each
    classifier's rows, so no pass over full-size logit tensors is needed (ONNX export makes
    them constant weights; selecting from the logits instead cost 7-10 % of the time); a
    reference bin some network lacks gets zero weights and a summed bias of -1e4: no mass."""
    indices, shared = shared_bins([h.bin_centers for h in heads], reference)
    keep = shared.to(heads[0].classifier.weight.dtype)
    folded = []
    for head, index in zip(heads, indices, strict=True):
        weight = head.classifier.weight.index_select(0, index) * keep[:, None, None, None]
        bias = head.classifier.bias.index_select(0, index) * keep - 1e4 * (1 - keep)
        folded.append((weight / len(heads), bias / len(heads)))
    return folded


class EnsembleHead(nn.Module):
    """The members' heads seen as one: the decode settings the tools sweep, and ``chroma``
    over the members' features."""

    def __init__(self, heads: list[nn.Module], temperature: float, chroma_gain: float,
                 gain_about_mean: bool, flip: bool = False, combine: str = "mean") -> None:
        super().__init__()
        if combine not in COMBINES:
            raise ValueError(f"ensemble combine must be one of {', '.join(COMBINES)}")
        self.heads = heads  # the members' own modules: a plain list, not registered twice
        self.temperature = temperature
        self.chroma_gain = chroma_gain
        self.gain_about_mean = gain_about_mean
        self.flip = flip
        self.combine = combine
        scales = {h.upsample * h.decode_pool for h in heads}
        if len(scales) != 1:
            raise ValueError("ensemble members must decode at the same resolution")
        self.scale = scales.pop()

    def extra_repr(self) -> str:
        # Part of the model's repr, so caches keyed on it (ONNX, TensorRT) see the decode.
        return (f"temperature={self.temperature}, chroma_gain={self.chroma_gain}, "
                f"gain_about_mean={self.gain_about_mean}, flip={self.flip}, "
                f"combine={self.combine}")

    def chroma(self, features: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The members' combined ab at the decoding resolution, gained."""
        if self.combine == "product":
            ab = self._product(features)
        else:
            total = None
            for head, member_features in zip(self.heads, features, strict=True):
                head.temperature = self.temperature
                ab = head.chroma(member_features)
                total = ab if total is None else total + ab
            ab = self._unflip(total / len(self.heads))
        return apply_gain(ab, self.chroma_gain, self.gain_about_mean)

    def _product(self, features: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The product of experts (``product_classifiers``), decoded on the first member's
        bins."""
        reference = self.heads[0]
        total = None
        for head, member_features, (weight, bias) in zip(
                self.heads, features, product_classifiers(self.heads, reference.bin_centers),
                strict=True):
            logits = F.conv2d(head.pooled(member_features), weight, bias)
            total = logits if total is None else total + logits
        reference.temperature = self.temperature
        return reference.decode(self._unflip(total))

    def _unflip(self, values: torch.Tensor) -> torch.Tensor:
        """With ``flip``, the batch holds the images, then their mirrors: each image's values
        averaged with its mirror's, mirrored back."""
        if not self.flip:
            return values
        upright, mirrored = values.chunk(2)
        return (upright + mirrored.flip(-1)) / 2

    def forward(self, features: tuple[torch.Tensor, ...]) -> torch.Tensor:
        ab = self.chroma(features)
        if self.scale > 1:
            ab = F.interpolate(ab, scale_factor=self.scale, mode="bilinear", align_corners=False)
        return ab


class Ensemble(nn.Module):
    """L [B,1,H,W] (0..100, sides multiples of 32) -> the members' mean ab [B,2,H,W].

    ``members``: each member's own config (an architecture of the registry); their decode
    gains are set to 1 here, the ensemble's gain applies once to the combination. ``flip``:
    each member also sees the mirrored image. ``combine``: ``mean`` or ``product``.
    """

    def __init__(self, members: tuple[dict[str, Any], ...], temperature: float = 1.0,
                 chroma_gain: float = 1.0, gain_about_mean: bool = False,
                 flip: bool = False, combine: str = "mean") -> None:
        super().__init__()
        from .registry import build_model  # the registry lists this architecture too

        self.members = nn.ModuleList(
            build_model({**m, "chroma_gain": 1.0, "gain_about_mean": False}) for m in members)
        self.head = EnsembleHead([m.head for m in self.members], temperature, chroma_gain,
                                 gain_about_mean, flip, combine)

    def features(self, lightness: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.head.flip:
            lightness = torch.cat((lightness, lightness.flip(-1)))
        return tuple(member.features(lightness) for member in self.members)

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(lightness))
