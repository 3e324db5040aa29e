"""Architecture registry: a model is its name plus a small JSON-able config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from .effnet_lite_unet import EffNetLiteUNet
from .plain_unet import PlainUNet

ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "effnet_lite0_unet": EffNetLiteUNet,
    "plain_unet": PlainUNet,
}


def build_model(config: dict[str, Any]) -> nn.Module:
    """Instantiate ``config["arch"]`` with the rest of the config as keyword arguments."""
    options = dict(config)
    arch = options.pop("arch", None)
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    for key, value in options.items():
        if isinstance(value, list):
            options[key] = tuple(value)
    return ARCHITECTURES[arch](**options)
