"""TensorRT back end (TensorRT 10+ API), for NVIDIA GPUs.

NOT YET RUN ON A GPU: written against TensorRT's documented Python API and only exercised by
tests that skip without CUDA and the ``tensorrt`` package.

The plan is built from the ONNX export as a strongly typed network (the ONNX carries the FP16
or BF16 casts itself, which TensorRT 10 honours and TensorRT 11 requires), with one
optimization profile spanning the shapes the pipeline uses. It is serialized into the user
cache under a key of GPU name, compute capability, TensorRT version, weights hash, precision
and profile, so only the first run pays for the build. Inference binds torch CUDA tensors with
``set_tensor_address`` and enqueues on the current torch stream with ``execute_async_v3``: no
host round-trips.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass

import torch
from torch import nn

from vidcolor.backends.base import check_input
from vidcolor.backends.cache import cache_dir, source_hash
from vidcolor.backends.onnx_export import cached_onnx, onnx_key

log = logging.getLogger(__name__)

WORKSPACE_BYTES = 1 << 30


@dataclass(frozen=True)
class Profile:
    """Min / opt / max input shapes (B, 1, H, W) of the TensorRT optimization profile."""

    min_shape: tuple[int, int, int, int] = (1, 1, 64, 64)
    opt_shape: tuple[int, int, int, int] = (4, 1, 256, 448)  # 16:9 at the default 256 size
    max_shape: tuple[int, int, int, int] = (32, 1, 1024, 1024)

    def covers(self, shape: tuple[int, ...]) -> bool:
        return len(shape) == 4 and all(
            lo <= s <= hi for lo, s, hi in zip(self.min_shape, shape, self.max_shape, strict=True)
        )


def _plan_key(model: nn.Module, dtype: torch.dtype, profile: Profile, device: torch.device) -> str:
    import tensorrt as trt

    props = torch.cuda.get_device_properties(device)
    parts = (
        props.name,
        f"sm{props.major}{props.minor}",
        f"trt{trt.__version__}",
        onnx_key(model, precision=dtype),  # the graph the plan is built from
        source_hash(__file__),
        repr(profile),
    )
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _build_plan(onnx_path: os.PathLike, profile: Profile, logger: object) -> bytes:
    import tensorrt as trt

    builder = trt.Builder(logger)
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT could not parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, WORKSPACE_BYTES)
    trt_profile = builder.create_optimization_profile()
    trt_profile.set_shape(
        network.get_input(0).name, profile.min_shape, profile.opt_shape, profile.max_shape
    )
    config.add_optimization_profile(trt_profile)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise RuntimeError("TensorRT failed to build an engine (see its log above)")
    return bytes(plan)


class TensorRTEngine:
    """Runs the model as a TensorRT plan on a CUDA device; FP16 by default, BF16 on request."""

    name = "tensorrt"
    reason = "requested explicitly"

    def __init__(
        self,
        model: nn.Module,
        device: torch.device | str = "cuda",
        dtype: torch.dtype = torch.float16,
        *,
        profile: Profile | None = None,
    ) -> None:
        import tensorrt as trt

        self.device = torch.device(device)
        if self.device.index is None:
            self.device = torch.device("cuda", torch.cuda.current_device())
        self.dtype = dtype
        self.profile = profile or Profile()
        self._logger = trt.Logger(trt.Logger.WARNING)
        with torch.cuda.device(self.device):
            plan_path = cache_dir("tensorrt") / (
                _plan_key(model, dtype, self.profile, self.device) + ".plan"
            )
            if plan_path.exists():
                log.info("TensorRT plan from cache: %s", plan_path)
            else:
                log.info("building TensorRT plan (first run only): %s", plan_path)
                plan = _build_plan(cached_onnx(model, precision=dtype), self.profile, self._logger)
                tmp = plan_path.with_name(f".{plan_path.name}.{os.getpid()}.tmp")
                tmp.write_bytes(plan)
                os.replace(tmp, plan_path)
            runtime = trt.Runtime(self._logger)
            self._engine = runtime.deserialize_cuda_engine(plan_path.read_bytes())
            if self._engine is None:
                raise RuntimeError(f"TensorRT could not load the cached plan {plan_path}")
            self._context = self._engine.create_execution_context()
        names = [self._engine.get_tensor_name(i) for i in range(self._engine.num_io_tensors)]
        is_input = [self._engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT for n in names]
        self._input = names[is_input.index(True)]
        self._output = names[is_input.index(False)]

    def infer(self, L: torch.Tensor) -> torch.Tensor:
        check_input(L)
        if not self.profile.covers(tuple(L.shape)):
            raise ValueError(
                f"input shape {tuple(L.shape)} is outside the TensorRT profile "
                f"{self.profile.min_shape}..{self.profile.max_shape}"
            )
        x = L.to(self.device, torch.float32, non_blocking=True).contiguous()
        ab = torch.empty((x.shape[0], 2, x.shape[2], x.shape[3]), device=self.device)
        self._context.set_input_shape(self._input, tuple(x.shape))
        self._context.set_tensor_address(self._input, x.data_ptr())
        self._context.set_tensor_address(self._output, ab.data_ptr())
        stream = torch.cuda.current_stream(self.device)
        if not self._context.execute_async_v3(stream.cuda_stream):
            raise RuntimeError("TensorRT execute_async_v3 failed")
        return ab
