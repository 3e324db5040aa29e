"""Teachers for distillation: ``python -m training.train --teacher A.safetensors B.safetensors``.

Two networks trained apart are wrong in different places, so the mean of their bin
distributions is more often right than either (on the validation photos the round-1 Lite0
and a Lite2 averaged beat round 1 at equal colourfulness). Running both costs 2.2 times
the network time, too much for live sources, so the default network learns their averaged
distribution instead: its target becomes a blend of the truth's soft encoding and the
teachers' distribution over its own bins (Hinton et al. 2015).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vidcolor.models import load_model

from .bins import nearest_bin


class Teachers(nn.Module):
    """Frozen networks -> their averaged bin distribution over the student's bins.

    A teacher's bins that the student lacks give their probability to the student's nearest
    bin, so teachers trained on other data (other visited bins) still fit.
    """

    def __init__(self, models: list[nn.Module], student_centers: torch.Tensor) -> None:
        super().__init__()
        self.models = nn.ModuleList(models).eval().requires_grad_(False)
        maps = []
        for model in self.models:
            to_student = nearest_bin(model.head.bin_centers.float(), student_centers.float())
            maps.append(F.one_hot(to_student, len(student_centers)).float())
        self.maps = maps

    @classmethod
    def from_files(cls, paths: list[str], student_centers: torch.Tensor) -> Teachers:
        return cls([load_model(p) for p in paths], student_centers)

    def train(self, mode: bool = True) -> Teachers:
        return super().train(False)  # teachers always predict with their running statistics

    @torch.no_grad()
    def forward(self, lightness: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """L [B, 1, H, W] -> the teachers' mean distribution [B, Q_student, *size]."""
        total = None
        for model, mapping in zip(self.models, self.maps, strict=True):
            logits = model.head.logits(model.features(lightness)).float()
            if logits.shape[-2:] != size:
                logits = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
            probs = torch.softmax(logits, dim=1).permute(0, 2, 3, 1) @ mapping.to(logits.device)
            total = probs if total is None else total + probs
        return (total / len(self.models)).permute(0, 3, 1, 2)
