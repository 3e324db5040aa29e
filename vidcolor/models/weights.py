"""Model files: safetensors holding the tensors and, in its metadata, the config.

One self-describing file per model, never a pickle: loading cannot run code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from .registry import build_model

DEFAULT_WEIGHTS_NAME = "vidcolor-effnet-lite0.safetensors"
WEIGHTS_ENV = "VIDCOLOR_WEIGHTS"


class MissingWeightsError(FileNotFoundError):
    """The model file is absent or unreadable; the message says what to do."""


def default_weights_path() -> Path:
    """The shipped model: $VIDCOLOR_WEIGHTS, the installed package data, or the source tree."""
    if os.environ.get(WEIGHTS_ENV):
        return Path(os.environ[WEIGHTS_ENV])
    package = Path(__file__).resolve().parents[1]
    for folder in (package / "_weights", package.parent / "engines"):
        if (folder / DEFAULT_WEIGHTS_NAME).is_file():
            return folder / DEFAULT_WEIGHTS_NAME
    return package.parent / "engines" / DEFAULT_WEIGHTS_NAME


def save_model(model: nn.Module, config: dict[str, Any], path: str | Path,
               extra: dict[str, Any] | None = None) -> Path:
    """Write weights plus config (and optional provenance) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {"config": json.dumps(config), "extra": json.dumps(extra or {})}
    save_file(tensors, str(path), metadata=metadata)
    return path


def read_config(path: str | Path) -> dict[str, Any]:
    with safe_open(str(path), framework="pt") as handle:
        return json.loads((handle.metadata() or {})["config"])


def load_model(path: str | Path | None = None) -> nn.Module:
    """Build the architecture named in the file and load its weights, in eval mode."""
    path = Path(path) if path is not None else default_weights_path()
    if not path.is_file():
        raise MissingWeightsError(
            f"model weights not found at {path} (pass --weights PATH or set {WEIGHTS_ENV})")
    try:
        config = read_config(path)
        state = load_file(str(path))
    except (SafetensorError, KeyError, json.JSONDecodeError, OSError) as exc:
        raise MissingWeightsError(f"cannot read model weights {path}: {exc}") from None
    model = build_model(config)
    model.load_state_dict(state)
    return model.eval()
