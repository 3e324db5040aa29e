"""Where exported and compiled artefacts live, and the hashes that key them to the weights and
to the code that turns those into a graph (so an upgrade never reuses a stale export)."""

from __future__ import annotations

import hashlib
import inspect
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


def source_hash(*files: str | Path) -> str:
    """Short hash of the contents of source files (not their paths: where a package is
    installed does not matter, what it says does)."""
    digests = sorted(hashlib.sha256(Path(f).read_bytes()).hexdigest() for f in set(files))
    return hashlib.sha256("".join(digests).encode()).hexdigest()[:16]


def weights_hash(model: nn.Module) -> str:
    """Short hash of the architecture (its repr, hyperparameters included), the source of every
    module class in it (ours and torch's: the code its forward runs), and every parameter and
    buffer, byte for byte.

    Two models with the same hash export to the same graph, so cached artefacts can be reused;
    non-tensor settings such as the decode temperature and gain are in the repr, and a change to
    how a module computes (a new vidcolor, a new torch) is in the source.
    """
    digest = hashlib.sha256(repr(model).encode())
    sources = {inspect.getsourcefile(type(m)) for m in model.modules()} - {None}  # None: no .py
    digest.update(source_hash(*sources).encode())
    for name, tensor in sorted(model.state_dict().items()):
        cpu = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}:{cpu.dtype}:{tuple(cpu.shape)}".encode())
        digest.update(cpu.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]
