"""Teachers for distillation: ``python -m training.train --teacher A.safetensors B.safetensors``.

Two networks trained apart are wrong in different places, so the mean of their bin
distributions is more often right than either (on the validation photos the round-1 Lite0
and a Lite2 averaged beat round 1 at equal colourfulness). Running both costs 2.2 times
the network time, too much for live sources, so the default network learns their averaged
distribution instead: its target becomes a blend of the truth's soft encoding and the
teachers' distribution over its own bins (Hinton et al. 2015). With ``combine="product"``
the teachers' distributions meet as the ``product`` quality model's members do
(``vidcolor.models.ensemble.product_classifiers``): their geometric mean on the student's bins,
sharpened by ``temperature``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vidcolor.models import load_model
from vidcolor.models.ensemble import COMBINES, product_classifiers

from .bins import nearest_bin


class Teachers(nn.Module):
    """Frozen networks -> their combined bin distribution over the student's bins.

    ``mean``: their distributions averaged; a teacher's bins that the student lacks give their
    probability to the student's nearest bin, so teachers trained on other data (other
    visited bins) still fit. ``product``: their geometric mean on the bins they share with
    the student, at ``temperature``.
    """

    def __init__(self, models: list[nn.Module], student_centers: torch.Tensor,
                 combine: str = "mean", temperature: float = 1.0) -> None:
        super().__init__()
        if combine not in COMBINES:
            raise ValueError(f"teachers combine must be one of {', '.join(COMBINES)}")
        self.models = nn.ModuleList(models).eval().requires_grad_(False)
        self.combine, self.temperature = combine, temperature
        self.register_buffer("student_centers", student_centers.float(), persistent=False)
        maps = []
        for model in self.models:
            to_student = nearest_bin(model.head.bin_centers.float(), student_centers.float())
            maps.append(F.one_hot(to_student, len(student_centers)).float())
        self.maps = maps

    @classmethod
    def from_files(cls, paths: list[str], student_centers: torch.Tensor, combine: str = "mean",
                   temperature: float = 1.0) -> Teachers:
        return cls([load_model(p) for p in paths], student_centers, combine, temperature)

    def train(self, mode: bool = True) -> Teachers:
        return super().train(False)  # teachers always predict with their running statistics

    @torch.no_grad()
    def forward(self, lightness: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """L [B, 1, H, W] -> the teachers' combined distribution [B, Q_student, *size]."""
        if self.combine == "product":
            heads = [model.head for model in self.models]
            combined = None
            for model, (weight, bias) in zip(
                    self.models, product_classifiers(heads, self.student_centers), strict=True):
                logits = F.conv2d(model.features(lightness), weight, bias)
                combined = logits if combined is None else combined + logits
            return torch.softmax(_at(combined.float(), size) / self.temperature, dim=1)
        total = None
        for model, mapping in zip(self.models, self.maps, strict=True):
            logits = _at(model.head.logits(model.features(lightness)).float(), size)
            probs = torch.softmax(logits, dim=1).permute(0, 2, 3, 1) @ mapping.to(logits.device)
            total = probs if total is None else total + probs
        return (total / len(self.models)).permute(0, 3, 1, 2)


def _at(logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Logits [B, Q, h, w] at the student's resolution ``size`` (bilinear)."""
    if logits.shape[-2:] == size:
        return logits
    return F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
