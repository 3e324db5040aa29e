"""PyTorch back end: the reference on CPU, and the measured GPU path on CUDA.

On CUDA the network runs channels-last in FP16 (or BF16) and, for each input shape seen, is
captured once into a CUDA graph and replayed, which removes per-layer launch overhead at the
small batch sizes a video pipeline uses. The CUDA path is written against PyTorch's documented
CUDA-graph API but has NOT YET BEEN RUN ON A GPU (its tests skip without CUDA); the CPU path is
tested and measured.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import torch
from torch import nn

from vidcolor.backends.base import check_input, default_threads

MAX_GRAPHS = 8  # distinct input shapes kept captured; videos use one or two


class _CapturedGraph:
    """One CUDA graph for one input shape: copy in, replay, read the static output."""

    def __init__(self, model: nn.Module, example: torch.Tensor) -> None:
        self.input = torch.empty_like(example)
        self.input.copy_(example)
        side = torch.cuda.Stream(example.device)
        side.wait_stream(torch.cuda.current_stream(example.device))
        with torch.cuda.stream(side):
            for _ in range(3):  # warm-up outside capture: cuDNN autotuning, lazy allocations
                model(self.input)
        torch.cuda.current_stream(example.device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        # thread_local: the pipeline's other threads keep uploading and synchronizing their
        # own streams (vidcolor.device_planes) while this one captures.
        with torch.cuda.graph(self.graph, capture_error_mode="thread_local"):
            self.output = model(self.input)

    def run(self, x: torch.Tensor) -> torch.Tensor:
        self.input.copy_(x)
        self.graph.replay()
        return self.output


class TorchEngine:
    """Runs the model with PyTorch on ``device`` in ``dtype``.

    On the CPU, ``threads`` (default: all cores but one) sets PyTorch's intra-op thread count,
    which is process-wide: with every core busy, PyTorch's OpenMP workers wait on each other
    (the model ran 0.6 fps with 2 threads, 5.1 with 1, on the shared 2-core machine), and
    the pipeline's colour math runs on the same pool. ``cuda_graphs`` only applies on CUDA.
    """

    name = "torch"
    reason = "requested explicitly"

    def __init__(
        self,
        model: nn.Module,
        device: torch.device | str = "cpu",
        dtype: torch.dtype | None = None,
        *,
        cuda_graphs: bool = True,
        threads: int | None = None,
    ) -> None:
        self.device = torch.device(device)
        cuda = self.device.type == "cuda"
        self.dtype = dtype or (torch.float16 if cuda else torch.float32)
        self._memory_format = torch.channels_last if cuda else torch.contiguous_format
        self.model = copy.deepcopy(model).eval().to(self.device, self.dtype)
        self.model = self.model.to(memory_format=self._memory_format)
        self._use_graphs = cuda and cuda_graphs
        self._graphs: OrderedDict[tuple[int, ...], _CapturedGraph] = OrderedDict()
        if not cuda:
            torch.set_num_threads(threads or default_threads())

    @torch.inference_mode()
    def infer(self, L: torch.Tensor) -> torch.Tensor:
        check_input(L)
        x = L.to(self.device, self.dtype, non_blocking=True)
        x = x.contiguous(memory_format=self._memory_format)
        if not self._use_graphs:
            return self.model(x).float()
        ab = self._graph_for(x).run(x)
        # .float() copies when computing in half precision; clone keeps FP32 output safe from
        # the next replay overwriting the static buffer.
        return ab.float() if ab.dtype != torch.float32 else ab.clone()

    def _graph_for(self, x: torch.Tensor) -> _CapturedGraph:
        key = tuple(x.shape)
        graph = self._graphs.pop(key, None) or _CapturedGraph(self.model, x)
        self._graphs[key] = graph
        if len(self._graphs) > MAX_GRAPHS:
            self._graphs.popitem(last=False)
        return graph
