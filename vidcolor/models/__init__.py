"""Colorization architectures, their registry, and model files.

Every model maps L [B,1,H,W] (0..100, sides multiples of 32) to ab [B,2,H,W].
"""

from .registry import ARCHITECTURES, build_model
from .weights import (
    DEFAULT_WEIGHTS_NAME,
    SHIPPED_MODELS,
    MissingWeightsError,
    default_weights_path,
    load_model,
    read_config,
    read_provenance,
    save_model,
    shipped_model_path,
)

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_WEIGHTS_NAME",
    "SHIPPED_MODELS",
    "MissingWeightsError",
    "build_model",
    "default_weights_path",
    "load_model",
    "read_config",
    "read_provenance",
    "save_model",
    "shipped_model_path",
]
