"""Losses over ab bins: soft-encoded, optionally rebalanced cross-entropy.

Plain L1/L2 on ab regresses to the mean and paints everything sepia; a
distribution over bins keeps the alternatives apart. ``lam`` selects the
rebalancing (1 = none, 0.5 = Zhang et al.'s), a dial between right-and-dull
and vivid-and-wrong that the model card compares. The confidence gate is trained by squared ab
error instead (``ChromaSquaredError``): for a fixed decoded colour, the gate that minimises it
is the share of that colour the truth bears out, which is what the gate is meant to learn.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .bins import nearest_bin, rebalance_weights, soft_targets
from .metrics import NEUTRAL_CHROMA

# ab units of one in the mean-ab term: a typical error of 10 units costs 1, as the
# cross-entropy's ~3 nats per pixel are of one order with it.
MEAN_AB_SCALE = 10.0


class BinnedCrossEntropy(nn.Module):
    """Cross-entropy against the truth's soft encoding, or, with ``teacher_weight``, against
    its blend with teachers' distributions (distillation, ``training.distill``).

    ``mean_weight`` adds the squared error of the distribution's mean ab (what the runtime
    decodes at temperature 1) against the truth, in units of :data:`MEAN_AB_SCALE`: the
    cross-entropy rewards putting mass on every plausible colour, not where the mean of those
    lands, which on gray stone or metal is a warm wash.

    ``neutral_weight`` K makes the truth's term count 1 + K times on pixels whose true chroma
    is below :data:`training.metrics.NEUTRAL_CHROMA` (stone, metal, snow, overcast sky): a
    neutral-aware objective, since the teachers paint such pixels warm and the plain loss
    lets the far more numerous coloured pixels set the network's prior."""

    def __init__(self, centers: torch.Tensor, prior: torch.Tensor, lam: float = 1.0,
                 teacher_weight: float = 0.0, mean_weight: float = 0.0,
                 neutral_weight: float = 0.0) -> None:
        super().__init__()
        self.register_buffer("centers", centers.float())
        self.register_buffer("weights", rebalance_weights(prior.float(), lam))
        self.teacher_weight = teacher_weight
        self.mean_weight = mean_weight
        self.neutral_weight = neutral_weight

    def forward(self, logits: torch.Tensor, ab: torch.Tensor,
                teacher: torch.Tensor | None = None) -> torch.Tensor:
        """Bin logits [B, Q, h, w] against ab [B, 2, H, W] (area-downsampled to h, w) and,
        where given, the teachers' distribution [B, Q, h, w]."""
        if ab.shape[-2:] != logits.shape[-2:]:
            ab = F.adaptive_avg_pool2d(ab, logits.shape[-2:])
        idx, soft = soft_targets(ab, self.centers)
        log_probs = torch.log_softmax(logits.float(), dim=1)
        per_pixel = -(log_probs.gather(1, idx) * soft).sum(1)
        if self.neutral_weight:
            neutral = torch.linalg.vector_norm(ab, dim=1) < NEUTRAL_CHROMA
            per_pixel = per_pixel * (1 + self.neutral_weight * neutral)
        if teacher is not None:
            taught = -(log_probs * teacher).sum(1)
            per_pixel = (1 - self.teacher_weight) * per_pixel + self.teacher_weight * taught
        pixel_weight = self.weights[nearest_bin(ab.permute(0, 2, 3, 1), self.centers)]
        loss = (per_pixel * pixel_weight).mean()
        if self.mean_weight:
            mean_ab = torch.einsum("bqhw,qc->bchw", log_probs.exp(), self.centers)
            loss = loss + self.mean_weight * F.mse_loss(mean_ab / MEAN_AB_SCALE,
                                                        ab / MEAN_AB_SCALE)
        return loss


class ChromaSquaredError(nn.Module):
    """Mean squared ab error of predicted ab [B, 2, h, w] against ab [B, 2, H, W] (area-
    downsampled to h, w): what PSNR measures, at the resolution the head decodes at."""

    def forward(self, predicted: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        if ab.shape[-2:] != predicted.shape[-2:]:
            ab = F.adaptive_avg_pool2d(ab, predicted.shape[-2:])
        return F.mse_loss(predicted.float(), ab)
