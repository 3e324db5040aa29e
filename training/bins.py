"""Quantized ab space: bin centres, the colour prior, soft targets, rebalancing.

After Zhang et al. (2016): ab is quantized on a grid of 10; the bins kept are
those the training data visits; targets are soft-encoded over the 5 nearest
bins (Gaussian, sigma 5); the prior of each bin gives rebalancing weights
``w ∝ 1 / ((1 - λ) p + λ / Q)`` (λ = 1: no rebalancing).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from vidcolor.models.heads import ab_grid


def nearest_bin(ab: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """ab [..., 2] -> index of the nearest centre [...]."""
    return torch.cdist(ab.reshape(-1, 2), centers).argmin(1).reshape(ab.shape[:-1])


def fit_bins(ab_samples: torch.Tensor, step: float = 10.0, sigma: float = 5.0, min_count: int = 1,
             centers: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """From sampled ab pixels [N, 2]: the visited bin centres [Q, 2] and their smoothed prior [Q].

    With ``centers`` (a model's own bins, when warm-starting) those bins are kept instead.
    """
    grid = ab_grid(step)
    counts = torch.bincount(nearest_bin(ab_samples, grid), minlength=len(grid)).float()
    if centers is None:
        keep = counts >= min_count
    else:
        keep = (grid[:, None, :] == centers[None].to(grid.dtype)).all(-1).any(1)
    side = int(len(grid) ** 0.5)
    kernel_size = 2 * int(3 * sigma / step) + 1
    x = torch.arange(kernel_size) - kernel_size // 2
    g = torch.exp(-(x * step) ** 2 / (2 * sigma**2))
    kernel = (g[:, None] * g[None, :]) / g.sum() ** 2
    prob = counts / counts.sum()
    smoothed = F.conv2d(prob.reshape(1, 1, side, side), kernel[None, None], padding=kernel_size // 2)
    prior = smoothed.flatten()[keep]
    return grid[keep], prior / prior.sum()


def rebalance_weights(prior: torch.Tensor, lam: float) -> torch.Tensor:
    """Per-bin loss weights with expectation 1 under the prior."""
    w = 1.0 / ((1 - lam) * prior + lam / len(prior))
    return w / (prior * w).sum()


def soft_targets(ab: torch.Tensor, centers: torch.Tensor, k: int = 5,
                 sigma: float = 5.0) -> tuple[torch.Tensor, torch.Tensor]:
    """ab [B, 2, h, w] -> (indices [B, k, h, w], weights [B, k, h, w]) of the k nearest bins."""
    b, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    dist, idx = torch.cdist(flat, centers).topk(k, dim=1, largest=False)
    weights = torch.softmax(-(dist**2) / (2 * sigma**2), dim=1)
    shape = (b, h, w, k)
    return (idx.reshape(shape).permute(0, 3, 1, 2), weights.reshape(shape).permute(0, 3, 1, 2))
