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
#: The shipped models by the name ``--model`` takes: ``fast`` (the default: live, previews)
#: and ``quality`` (files: several networks combined, a few times slower).
SHIPPED_MODELS = {"fast": DEFAULT_WEIGHTS_NAME,
                  "quality": "vidcolor-ensemble-lite0-lite2.safetensors"}
WEIGHTS_ENV = "VIDCOLOR_WEIGHTS"


class MissingWeightsError(FileNotFoundError):
    """The model file is absent or unreadable; the message says what to do."""


class InvalidWeightsError(MissingWeightsError):
    """The file is there but is not a vidcolor model this version can load; the message names
    the file and says why. A MissingWeightsError still, as an unreadable file was before."""


def default_weights_path() -> Path:
    """The default model: $VIDCOLOR_WEIGHTS, else the shipped ``fast`` one."""
    if os.environ.get(WEIGHTS_ENV):
        return Path(os.environ[WEIGHTS_ENV])
    return shipped_model_path("fast")


def shipped_model_path(name: str) -> Path:
    """A shipped model (:data:`SHIPPED_MODELS`): in the installed package data, or the source
    tree's engines/."""
    filename = SHIPPED_MODELS[name]
    package = Path(__file__).resolve().parents[1]
    for folder in (package / "_weights", package.parent / "engines"):
        if (folder / filename).is_file():
            return folder / filename
    return package.parent / "engines" / filename


def save_model(model: nn.Module, config: dict[str, Any], path: str | Path,
               extra: dict[str, Any] | None = None) -> Path:
    """Write weights plus config (and optional provenance) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {"config": json.dumps(config), "extra": json.dumps(extra or {})}
    save_file(tensors, str(path), metadata=metadata)
    return path


def _metadata(path: str | Path) -> dict[str, str]:
    try:
        with safe_open(str(path), framework="pt") as handle:
            return handle.metadata() or {}
    except (SafetensorError, OSError) as exc:
        raise _invalid(path, f"not a safetensors file ({_first_line(exc)}); vidcolor loads "
                             ".safetensors models (python -m training.export converts a "
                             "checkpoint)") from None


def read_provenance(path: str | Path) -> dict[str, Any]:
    """The provenance ``save_model`` stored beside the config (step, data, …; {} if none)."""
    return json.loads(_metadata(path).get("extra", "{}"))


def read_config(path: str | Path) -> dict[str, Any]:
    """The architecture config stored in the metadata of the model file ``path``."""
    metadata = _metadata(path)
    if "config" not in metadata:
        raise _invalid(path, "no vidcolor config in its metadata (a safetensors file, but not "
                             "a vidcolor model; vidcolor.models.save_model writes them)")
    try:
        return json.loads(metadata["config"])
    except json.JSONDecodeError as exc:
        raise _invalid(path, f"its vidcolor config is not JSON ({exc})") from None


def load_model(path: str | Path | None = None) -> nn.Module:
    """Build the architecture named in the file and load its weights, in eval mode."""
    path = Path(path) if path is not None else default_weights_path()
    if not path.is_file():
        raise MissingWeightsError(
            f"model weights not found at {path} (pass --weights PATH or set {WEIGHTS_ENV})")
    config = read_config(path)
    try:
        model = build_model(config)
        state = load_file(str(path))
    except (ValueError, SafetensorError, OSError) as exc:
        raise _invalid(path, _first_line(exc)) from None
    mismatch = _mismatch(model.state_dict(), state)
    if mismatch:
        raise _invalid(path, f"its tensors do not match the {config['arch']} architecture its "
                             f"config names ({mismatch})")
    model.load_state_dict(state)
    return model.eval()


def _invalid(path: str | Path, why: str) -> InvalidWeightsError:
    return InvalidWeightsError(f"cannot read model weights {path}: {why}")


def _mismatch(wanted: dict[str, Any], given: dict[str, Any]) -> str:
    """What differs between two state dicts, counted, with an example of each; "" if none."""
    missing = [k for k in wanted if k not in given]
    unexpected = [k for k in given if k not in wanted]
    reshaped = [f"{k} is {list(given[k].shape)}, not {list(wanted[k].shape)}" for k in wanted
                if k in given and given[k].shape != wanted[k].shape]
    parts = [f"{len(found)} {what}, e.g. {found[0]}" for what, found in (
        ("missing", missing), ("unexpected", unexpected), ("of another shape", reshaped))
        if found]
    return "; ".join(parts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
