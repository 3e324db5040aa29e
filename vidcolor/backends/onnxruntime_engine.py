"""ONNX Runtime back end: the default on machines without a CUDA GPU.

Threads are tuned for a pipeline, not for a benchmark. A session runs concurrent ``infer``
calls in parallel, so rather than splitting each call over every core (whose workers wait for
each other at every layer, and wait long when the decoder or encoder holds a core), the
pipeline keeps ``concurrent_calls`` batches in flight, each on fewer threads. No worker
spin-waits: busy-waiting burns the cores the decoder and encoder threads need.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from vidcolor.backends.base import check_input, usable_cores


class OnnxRuntimeEngine:
    """Runs an ONNX file (dynamic shapes, FP32 at its boundary) with ONNX Runtime's CPU
    provider; ``dtype`` names what it computes in (torch.int8: the INT8-decoder file).
    ``threads`` per call and ``calls`` run at once (``concurrent_calls``) share out the usable
    cores: given one, the other follows."""

    name = "onnxruntime"
    reason = "requested explicitly"
    device = torch.device("cpu")
    dtype = torch.float32

    def __init__(self, onnx_path: str | os.PathLike, *, threads: int | None = None,
                 calls: int | None = None, dtype: torch.dtype = torch.float32) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Calls in flight x threads per call = the usable cores. By default as many calls as
        # cores, up to 4 (each holds a batch in memory), so each call has few threads: the
        # threads of one call wait for each other at every layer, separate calls do not.
        cores = usable_cores()
        if calls is None:
            calls = max(1, cores // threads) if threads else min(cores, 4)
        self.concurrent_calls = calls
        options.intra_op_num_threads = threads or max(1, cores // calls)
        options.inter_op_num_threads = 1
        # Idle workers sleep instead of spinning (see the module docstring).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # No memory pattern (one block per input shape, planned from the first run): with
        # calls in flight it peaks ~130 MB higher at batch 4 (25 at batch 1) than allocating
        # each tensor from the arena, for no speed measurable beside the convolutions.
        options.enable_mem_pattern = False
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
