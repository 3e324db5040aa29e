"""ONNX export with dynamic batch, height and width, checked, and cached by weights hash.

ONNX is the hand-off to ONNX Runtime and TensorRT. Inputs and outputs are always FP32 (``L``
in, ``ab`` out); a reduced ``precision`` casts inside the graph, which is what a strongly
typed TensorRT network needs to build in FP16/BF16.
"""

from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path

import torch
from torch import nn

from vidcolor.backends.base import precision_name
from vidcolor.backends.cache import cache_dir, source_hash, weights_hash

OPSET = 17
INPUT_NAME = "L"
OUTPUT_NAME = "ab"
_DYNAMIC = {0: "batch", 2: "height", 3: "width"}


class _CastInside(nn.Module):
    """FP32 at the boundary, ``dtype`` inside."""

    def __init__(self, model: nn.Module, dtype: torch.dtype) -> None:
        super().__init__()
        self.model = model.to(dtype)
        self.dtype = dtype

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        return self.model(L.to(self.dtype)).float()


def export_onnx(
    model: nn.Module, path: str | os.PathLike, *, precision: torch.dtype = torch.float32
) -> Path:
    """Write ``model`` to ``path`` as ONNX (atomically) and run onnx's full checker on it."""
    import onnx

    path = Path(path)
    net = copy.deepcopy(model).eval().to("cpu")
    if precision != torch.float32:
        net = _CastInside(net, precision)
    example = torch.full((1, 1, 64, 96), 50.0)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with warnings.catch_warnings():
            # The TorchScript exporter is deprecated in favour of dynamo, which needs
            # onnxscript; this one handles plain conv nets and dynamic axes well.
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                net,
                (example,),
                str(tmp),
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                opset_version=OPSET,
                dynamic_axes={INPUT_NAME: _DYNAMIC, OUTPUT_NAME: _DYNAMIC},
                do_constant_folding=True,
                dynamo=False,
            )
        onnx.checker.check_model(str(tmp), full_check=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def onnx_key(model: nn.Module, *, precision: torch.dtype = torch.float32) -> str:
    """What the exported graph depends on: the weights and model code, this exporter's code,
    the precision and the opset. Artefacts built from the export extend this key."""
    return f"{weights_hash(model)}-{source_hash(__file__)}-{precision_name(precision)}-opset{OPSET}"


def cached_onnx(model: nn.Module, *, precision: torch.dtype = torch.float32) -> Path:
    """The model's ONNX file in the user cache, exported on first use only."""
    path = cache_dir("onnx") / f"{onnx_key(model, precision=precision)}.onnx"
    if not path.exists():
        export_onnx(model, path, precision=precision)
    return path
