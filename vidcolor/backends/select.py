"""Choose an engine and device (``auto`` rules), say why, and build it.

``auto``: TensorRT on a CUDA GPU when ``tensorrt`` is importable, else PyTorch CUDA, else ONNX
Runtime on the CPU, else PyTorch on the CPU.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from typing import NamedTuple

import torch
from torch import nn

from vidcolor.backends.base import Engine, EngineUnavailableError, precision_dtype

log = logging.getLogger(__name__)

ENGINE_NAMES = ("auto", "tensorrt", "torch", "onnxruntime")
#: ONNX Runtime's default: the INT8 decoder (1.4x faster at batch 4; the output moves by a
#: fraction of an ab unit, validation metrics by under 0.01: benchmarks/results/*/quality.md).
ONNXRUNTIME_DEFAULT = torch.int8


class Choice(NamedTuple):
    name: str
    device: torch.device
    reason: str


def _importable(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def parse_device(device: str) -> torch.device | None:
    """``auto`` -> None; ``cpu``, ``cuda``, ``cuda:N`` -> torch.device; else ValueError."""
    if device == "auto":
        return None
    head, _, index = device.partition(":")
    if (head == "cpu" and not index) or (head == "cuda" and (not index or index.isdigit())):
        return torch.device(device)
    raise ValueError(f"unknown device {device!r}; expected auto, cpu, cuda or cuda:N")


def _check_cuda(device: torch.device) -> None:
    if not torch.cuda.is_available():
        raise EngineUnavailableError(f"device {device} requested but PyTorch sees no CUDA GPU")
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise EngineUnavailableError(
            f"device {device} requested but only {torch.cuda.device_count()} CUDA GPU(s) exist"
        )


def choose_engine(name: str = "auto", device: str = "auto") -> Choice:
    """Resolve ``name`` and ``device`` to a concrete pair without building anything."""
    if name not in ENGINE_NAMES:
        raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINE_NAMES)}")
    wanted = parse_device(device)
    if wanted is not None and wanted.type == "cuda":
        _check_cuda(wanted)
    cuda = wanted if wanted is not None else torch.device("cuda")
    use_cuda = wanted.type == "cuda" if wanted is not None else torch.cuda.is_available()
    gpu = torch.cuda.get_device_name(cuda) if use_cuda else ""
    has_trt, has_ort = _importable("tensorrt"), _importable("onnxruntime")

    if name == "auto":
        if use_cuda and has_trt:
            return Choice("tensorrt", cuda, f"CUDA GPU {gpu} and the tensorrt package found")
        if use_cuda:
            return Choice("torch", cuda, f"CUDA GPU {gpu} found; tensorrt not installed")
        why = "cpu requested" if wanted is not None else "no CUDA GPU"
        if has_ort:
            return Choice("onnxruntime", torch.device("cpu"), f"{why}; onnxruntime found")
        return Choice("torch", torch.device("cpu"), f"{why}; onnxruntime not installed")

    if name == "tensorrt":
        if not use_cuda:
            raise EngineUnavailableError("the tensorrt engine needs a CUDA GPU")
        if not has_trt:
            raise EngineUnavailableError(
                "the tensorrt engine needs the tensorrt package: pip install 'vidcolor[tensorrt]'"
            )
        return Choice("tensorrt", cuda, f"requested; CUDA GPU {gpu}")
    if name == "onnxruntime":
        if wanted is not None and wanted.type == "cuda":
            raise EngineUnavailableError(
                "the onnxruntime engine runs on the CPU only; for CUDA use torch or tensorrt"
            )
        if not has_ort:
            raise EngineUnavailableError(
                "the onnxruntime engine needs onnxruntime: pip install 'vidcolor[onnx]'"
            )
        return Choice("onnxruntime", torch.device("cpu"), "requested")
    device_ = cuda if use_cuda else torch.device("cpu")
    return Choice("torch", device_, f"requested; {f'CUDA GPU {gpu}' if use_cuda else 'CPU'}")


def _load(weights: str | os.PathLike | nn.Module | None) -> nn.Module:
    if isinstance(weights, nn.Module):
        return weights
    from vidcolor.models import load_model

    return load_model(None if weights is None else str(weights))


def _onnxruntime_engine(model: nn.Module, dtype: torch.dtype, threads: int | None,
                       calls: int | None) -> Engine:
    from vidcolor.backends.onnxruntime_engine import OnnxRuntimeEngine

    if dtype == torch.int8:
        from vidcolor.backends.onnx_int8 import cached_int8_onnx

        return OnnxRuntimeEngine(cached_int8_onnx(model), threads=threads, calls=calls,
                                 dtype=dtype)
    if dtype != torch.float32:
        raise EngineUnavailableError("the onnxruntime engine runs in fp32 or int8")
    from vidcolor.backends.onnx_export import cached_onnx

    return OnnxRuntimeEngine(cached_onnx(model), threads=threads, calls=calls)


def create_engine(
    name: str = "auto",
    device: str = "auto",
    weights: str | os.PathLike | nn.Module | None = None,
    *,
    precision: str | None = None,
    threads: int | None = None,
    calls: int | None = None,
) -> Engine:
    """Build the engine ``choose_engine`` picks; its ``reason`` is logged and kept on it.

    ``weights``: a safetensors path, an ``nn.Module``, or None for the shipped default.
    ``precision``: ``fp32``/``fp16``/``bf16``/``int8``, None for the engine's default: FP16 on
    CUDA, :data:`ONNXRUNTIME_DEFAULT` with ONNX Runtime, FP32 for PyTorch on the CPU.
    ``threads``: CPU threads for inference (None: engine default); ``calls``: how many calls
    ONNX Runtime runs at once (None: engine default).
    """
    choice = choose_engine(name, device)
    dtype = precision_dtype(precision) if precision is not None else None
    model = _load(weights)
    engine: Engine
    if dtype == torch.int8 and choice.name != "onnxruntime":
        raise EngineUnavailableError("int8 is an onnxruntime precision (CPU); use fp32/fp16/bf16")
    if choice.name == "onnxruntime":
        engine = _onnxruntime_engine(model, dtype or ONNXRUNTIME_DEFAULT, threads, calls)
    elif choice.name == "tensorrt":
        from vidcolor.backends.tensorrt_engine import TensorRTEngine

        engine = TensorRTEngine(model, choice.device, dtype or torch.float16)
    else:
        from vidcolor.backends.torch_engine import TorchEngine

        engine = TorchEngine(model, choice.device, dtype, threads=threads)
    engine.reason = choice.reason
    log.info("engine %s on %s, %s: %s", choice.name, choice.device, engine.dtype, choice.reason)
    return engine
