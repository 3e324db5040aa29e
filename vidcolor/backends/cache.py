"""Where exported and compiled artefacts live, and the hash that keys them to the weights."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from torch import nn


def cache_dir(*parts: str) -> Path:
    """``$VIDCOLOR_CACHE`` or ``$XDG_CACHE_HOME/vidcolor`` (default ``~/.cache/vidcolor``)."""
    root = os.environ.get("VIDCOLOR_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(xdg) / "vidcolor"
    path = Path(root).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def weights_hash(model: nn.Module) -> str:
    """Short hash of the architecture (its repr, hyperparameters included) and every parameter
    and buffer, byte for byte.

    Two models with the same hash export to the same graph, so cached artefacts can be reused;
    non-tensor settings such as the decode temperature and gain are in the repr.
    """
    digest = hashlib.sha256(repr(model).encode())
    for name, tensor in sorted(model.state_dict().items()):
        cpu = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}:{cpu.dtype}:{tuple(cpu.shape)}".encode())
        digest.update(cpu.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]
