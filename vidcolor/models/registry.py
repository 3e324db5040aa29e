"""Architecture registry: a model is its name plus a small JSON-able config."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from torch import nn

from .effnet_lite_unet import EffNetLiteUNet
from .ensemble import Ensemble
from .plain_unet import PlainUNet

ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "effnet_lite0_unet": EffNetLiteUNet,
    "effnet_lite1_unet": partial(EffNetLiteUNet, variant="lite1"),
    "effnet_lite2_unet": partial(EffNetLiteUNet, variant="lite2"),
    "plain_unet": PlainUNet,
    "ensemble": Ensemble,
}


def build_model(config: dict[str, Any]) -> nn.Module:
    """Instantiate ``config["arch"]`` with the rest of the config as keyword arguments.

    ValueError, in one line, for an unknown architecture or settings it does not take.
    """
    options = dict(config)
    arch = options.pop("arch", None)
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    for key, value in options.items():
        if isinstance(value, list):
            options[key] = tuple(value)  # JSON lists; an ensemble's members stay dicts
    try:
        return ARCHITECTURES[arch](**options)
    except TypeError as exc:  # a setting the architecture does not have
        raise ValueError(f"the config does not fit architecture {arch!r}: {exc}") from None
