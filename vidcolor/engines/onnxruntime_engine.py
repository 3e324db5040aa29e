"""ONNX Runtime back end: the default on machines without a CUDA GPU.

Threads are tuned for a pipeline, not for a benchmark: one inter-op thread, one intra-op thread
per usable core, and no spin-waiting, so that the decoder and encoder threads that share the
CPU are not starved by workers busy-waiting for the next layer.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from vidcolor.engines.base import check_input, usable_cores


class OnnxRuntimeEngine:
    """Runs an ONNX file (dynamic shapes, FP32 at its boundary) with ONNX Runtime's CPU
    provider; ``dtype`` names what it computes in (torch.int8: the INT8-decoder file)."""

    name = "onnxruntime"
    reason = "requested explicitly"
    device = torch.device("cpu")
    dtype = torch.float32

    def __init__(self, onnx_path: str | os.PathLike, *, threads: int | None = None,
                 dtype: torch.dtype = torch.float32) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # All cores: ONNX Runtime without spin-waiting shares them well with the decoder and
        # encoder threads (480p pipeline on the idle 2-core machine, INT8 decoder: 23.3 fps
        # with two intra-op threads, 19.5 with one; benchmarks/results/cpu-2core-amd-epyc).
        options.intra_op_num_threads = threads or usable_cores()
        options.inter_op_num_threads = 1
        # Spinning workers were slower here (up to 1.5x per frame): they burn the cores others need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.threads = options.intra_op_num_threads
        self.dtype = dtype
        self.path = Path(onnx_path)
        self._session = ort.InferenceSession(
            str(self.path), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name

    def infer(self, L: torch.Tensor) -> torch.Tensor:
        check_input(L)
        x = L.detach().to("cpu", torch.float32).contiguous().numpy()
        (ab,) = self._session.run([self._output], {self._input: x})
        return torch.from_numpy(ab)
