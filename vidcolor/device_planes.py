"""The full-resolution plane work on a torch device: a frame's luma in, its Cb/Cr planes out.

On a CUDA GPU the two full-resolution steps of a frame run on the GPU: shrinking the luma
plane to the network's input (uploaded from pinned memory) and turning the predicted ab into
Cb/Cr planes at the frame's chroma size (downloaded as uint8). The network's input then never
leaves the GPU before inference. Only model-resolution data crosses to the host: the ab
prediction and the small L, which the temporal stage (OpenCV optical flow) needs there.

Each calling thread gets its own CUDA stream and every call returns once its work is done, so
the pipeline's stage threads overlap uploads, inference and downloads across frames, and no
tensor is freed while another stream still reads it. On the CPU the same code runs with torch's
CPU kernels: that is how it is tested on machines without a GPU. It matches the OpenCV path
(``Colorizer`` with host planes) within rounding: the same area filter, as two matrix
products, and OpenCV's bilinear filter works in fixed point.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext

import numpy as np
import torch
from torch.nn import functional as F

from .color import lightness_table
from .tables import chroma_table, table_index


def area_weights(out_size: int, in_size: int) -> np.ndarray:
    """[out, in] float32: each output pixel averages the input span it covers, partial pixels
    weighed by their overlap (OpenCV's INTER_AREA), so that shrinking is two matrix products."""
    edges = np.arange(out_size + 1) * (in_size / out_size)
    start, end = edges[:-1, None], edges[1:, None]
    pixel = np.arange(in_size)[None]
    overlap = np.clip(np.minimum(end, pixel + 1) - np.maximum(start, pixel), 0, None)
    return (overlap / (in_size / out_size)).astype(np.float32)


class DevicePlanes:
    """Luma -> network input, and ab -> chroma planes, on ``device``."""

    def __init__(self, device: torch.device) -> None:
        self.device = torch.device(device)
        self._local = threading.local()
        self._tables: dict[tuple, torch.Tensor] = {}

    def _stream(self) -> AbstractContextManager:
        """This thread's own CUDA stream (nothing on the CPU)."""
        if self.device.type != "cuda":
            return nullcontext()
        stream = getattr(self._local, "stream", None)
        if stream is None:
            stream = self._local.stream = torch.cuda.Stream(self.device)
        return torch.cuda.stream(stream)

    def _finish(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.current_stream(self.device).synchronize()

    def _upload(self, array: np.ndarray) -> torch.Tensor:
        host = torch.from_numpy(np.ascontiguousarray(array))
        if self.device.type == "cuda":
            host = host.pin_memory()  # page-locked, so the copy runs asynchronously
        return host.to(self.device, non_blocking=True)

    def _table(self, key: tuple, build) -> torch.Tensor:
        if key not in self._tables:
            self._tables[key] = torch.from_numpy(build(*key[1:])).to(self.device)
        return self._tables[key]

    def lightness_small(self, luma: np.ndarray, size: tuple[int, int],
                        full_range: bool) -> torch.Tensor:
        """uint8 luma [H, W] -> L [h, w] float32 on the device (``size`` = (h, w))."""
        with self._stream():
            rows = self._table(("area", size[0], luma.shape[0]), area_weights)
            cols = self._table(("area", size[1], luma.shape[1]), area_weights)
            codes = rows @ self._upload(luma).float() @ cols.T
            codes = (codes + 0.5).clamp(0, 255).long()
            lightness = self._table(("L", bool(full_range)), lightness_table)[codes]
            self._finish()
        return lightness

    def chroma_planes(self, ab: np.ndarray | torch.Tensor, lightness: torch.Tensor,
                      chroma_hw: tuple[int, int], matrix: str,
                      full_range: bool) -> tuple[np.ndarray, np.ndarray]:
        """ab [2, h, w] with its L [h, w] -> (Cb, Cr) uint8 planes of size ``chroma_hw``."""
        with self._stream():
            ab = torch.as_tensor(ab).to(self.device, non_blocking=True)
            table = self._table(("CbCr", matrix, bool(full_range)), chroma_table).reshape(-1, 2)
            cbcr = table[table_index(lightness.to(self.device), ab[0], ab[1])]  # [h, w, 2]
            planes = F.interpolate(cbcr.permute(2, 0, 1)[None].float(), size=chroma_hw,
                                   mode="bilinear", align_corners=False)[0]
            planes = (planes + 0.5).clamp(0, 255).to(torch.uint8).cpu().numpy()
        return planes[0], planes[1]
