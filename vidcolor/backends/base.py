"""The one interface every inference back end implements, and the checks they share."""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable

import torch

PRECISIONS: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "fp16": torch.float16,
    "bf16": torch.bfloat16,
    "int8": torch.int8,  # ONNX Runtime only: INT8 decoder, FP32 encoder (backends.onnx_int8)
}


class EngineUnavailableError(ValueError):
    """The requested engine or device cannot run here (package missing, no CUDA, ...)."""


@runtime_checkable
class Engine(Protocol):
    """Maps lightness to chroma: ``infer(L [B,1,H,W] float32, 0..100) -> ab [B,2,H,W] float32``.

    ``device`` is where ``infer`` returns its result (and where inputs are best placed);
    ``dtype`` is the precision the network computes in; ``reason`` says why it was chosen.
    An engine may also say how many ``infer`` calls usefully run at once from different
    threads (``concurrent_calls``, 1 when absent).
    """

    name: str
    device: torch.device
    dtype: torch.dtype
    reason: str

    def infer(self, L: torch.Tensor) -> torch.Tensor: ...


def precision_dtype(precision: str) -> torch.dtype:
    """``"fp32" | "fp16" | "bf16"`` -> torch dtype; anything else is a one-line ValueError."""
    try:
        return PRECISIONS[precision]
    except KeyError:
        raise ValueError(
            f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}"
        ) from None


def precision_name(dtype: torch.dtype) -> str:
    """Inverse of :func:`precision_dtype`, for keys, logs and reports."""
    return next(name for name, value in PRECISIONS.items() if value == dtype)


def check_input(L: torch.Tensor) -> None:
    """Reject shapes the network cannot take, with a message that names the shape."""
    if L.ndim != 4 or L.shape[1] != 1:
        raise ValueError(f"expected L shaped [B,1,H,W], got {tuple(L.shape)}")
    if L.shape[2] % 32 or L.shape[3] % 32:
        raise ValueError(f"L height and width must be multiples of 32, got {tuple(L.shape[2:])}")


_share: int | None = None  # this process's share of the cores, when it is one worker of several


def share_cores(cores: int | None) -> None:
    """Size every engine built from now on for ``cores`` cores (None: all): a worker among
    several on one machine (``vidcolor.scale``), whose threads would otherwise contend."""
    global _share
    _share = None if cores is None else max(1, cores)


def usable_cores() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, _share or cores or 1))


def default_threads() -> int:
    """All usable cores but one, which the decoder and encoder threads need.

    Used for PyTorch on the CPU: its worker threads wait for each other at every layer, so
    when one of them must share its core with a pipeline thread, all of them wait.
    """
    return max(1, usable_cores() - 1)
