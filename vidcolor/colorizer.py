"""From a frame's luma to its new chroma, and from a gray still to a colour one.

The network sees only lightness at its own small resolution and predicts ab
there. For video, ab is turned into Cb/Cr at that resolution and only the
chroma planes are resized to the frame's chroma size: the frame keeps its own
luma plane, so detail and brightness are exactly the input's, and no
full-resolution float RGB is ever built. For stills, the image's own full
resolution L* is kept and only ab is upsampled.

When the engine runs on a CUDA GPU, the full-resolution plane work runs there too
(``vidcolor.device_planes``): the network's input is then a tensor on the GPU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np
import torch

from .color import lab_to_rgb, luma_to_lightness, rgb_to_lab
from .device_planes import DevicePlanes
from .tables import chroma_table, table_index

if TYPE_CHECKING:
    from .backends.base import Engine

MULTIPLE = 32  # the network downsamples five times


def _round_to(value: float, multiple: int = MULTIPLE) -> int:
    return max(multiple, int(math.floor(value / multiple + 0.5)) * multiple)


def on_host(lightness: np.ndarray | torch.Tensor) -> np.ndarray:
    """A small L from :meth:`Colorizer.lightness_small` as a numpy array (for the temporal
    stage, which runs on the CPU)."""
    if isinstance(lightness, torch.Tensor):
        return lightness.cpu().numpy()
    return lightness


def model_input_size(height: int, width: int, short_side: int) -> tuple[int, int]:
    """The network's input size: short side ``short_side``, aspect kept, multiples of 32."""
    scale = short_side / min(height, width)
    return _round_to(height * scale), _round_to(width * scale)


def compose_rgb(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """Full-resolution L [H, W] + ab at any size [2, h, w] -> uint8 RGB [H, W, 3]."""
    h, w = lightness.shape
    ab_full = np.stack([cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR) for c in ab])
    rgb = lab_to_rgb(np.concatenate((lightness[None], ab_full), 0)).transpose(1, 2, 0)
    return np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)


class Colorizer:
    """Predicts chroma for gray frames with an inference engine.

    Build one from a :class:`vidcolor.specs.ModelSpec` (``ModelSpec(...).build()``), or from
    any object that follows ``backends.base.Engine``. ``size`` is the short side (in pixels,
    rounded to a multiple of 32) at which the network sees each frame; the aspect ratio is
    kept. ``planes``: where video planes are shrunk and chroma planes built: "host"
    (OpenCV), "device" (torch, on the engine's device), or "auto" (the device when the engine
    runs on CUDA).
    """

    def __init__(self, engine: Engine, *, size: int = 256, planes: str = "auto") -> None:
        self.engine = engine
        self.size = size
        if planes not in ("auto", "host", "device"):
            raise ValueError(f"planes must be auto, host or device, got {planes!r}")
        on_device = planes == "device" or (planes == "auto" and engine.device.type == "cuda")
        self.planes = DevicePlanes(engine.device) if on_device else None

    @property
    def concurrent_calls(self) -> int:
        """How many :meth:`infer` calls usefully run at once (the engine says; else 1)."""
        return getattr(self.engine, "concurrent_calls", 1)

    def model_size(self, height: int, width: int) -> tuple[int, int]:
        return model_input_size(height, width, self.size)

    def lightness_small(self, luma: np.ndarray, full_range: bool) -> np.ndarray | torch.Tensor:
        """uint8 luma plane [H, W] -> L [mh, mw] float32, as the network wants it: a numpy
        array, or a tensor on the engine's device when planes are built there."""
        mh, mw = self.model_size(*luma.shape)
        if self.planes is not None:
            return self.planes.lightness_small(luma, (mh, mw), full_range)
        small = cv2.resize(luma, (mw, mh), interpolation=cv2.INTER_AREA)
        return luma_to_lightness(small, full_range)

    def infer(self, lightness: np.ndarray | torch.Tensor) -> np.ndarray:
        """L [B, 1, mh, mw] -> ab [B, 2, mh, mw] float32 on the CPU."""
        batch = torch.as_tensor(lightness, dtype=torch.float32)
        return self.engine.infer(batch).float().cpu().numpy()

    def infer_frames(self, frames: Sequence[np.ndarray | torch.Tensor]) -> np.ndarray:
        """Same-size L [mh, mw] of several frames (from :meth:`lightness_small`) -> ab [B, 2,
        mh, mw] float32 on the CPU; device tensors are stacked where they are."""
        if all(isinstance(f, np.ndarray) for f in frames):
            # numpy, not torch.stack: a torch op wakes PyTorch's OpenMP workers, which then
            # spin for a while on the cores ONNX Runtime needs (3 ms per 480p frame here).
            return self.infer(np.stack(frames)[:, None])
        return self.infer(torch.stack([torch.as_tensor(f) for f in frames])[:, None])

    def chroma_planes(self, ab: np.ndarray, lightness: np.ndarray | torch.Tensor,
                      chroma_hw: tuple[int, int], matrix: str,
                      full_range: bool) -> tuple[np.ndarray, np.ndarray]:
        """ab [2, mh, mw] with its L [mh, mw] -> (Cb, Cr) uint8 planes of size ``chroma_hw``."""
        if self.planes is not None:
            return self.planes.chroma_planes(ab, lightness, chroma_hw, matrix, full_range)
        table = chroma_table(matrix, full_range).reshape(-1, 2)
        cbcr = table[table_index(np.asarray(lightness), ab[0], ab[1])]
        h, w = chroma_hw
        return tuple(cv2.resize(np.ascontiguousarray(cbcr[..., i]), (w, h),
                                interpolation=cv2.INTER_LINEAR) for i in (0, 1))

    def predict_ab(self, lightness: np.ndarray) -> np.ndarray:
        """Full-resolution L [H, W] -> ab [2, mh, mw] at the network's resolution."""
        mh, mw = self.model_size(*lightness.shape)
        small = cv2.resize(lightness, (mw, mh), interpolation=cv2.INTER_AREA)
        return self.infer(small[None, None])[0]

    def colorize_rgb(self, image: np.ndarray) -> np.ndarray:
        """uint8 RGB (or gray) still -> uint8 RGB; its own L* is kept, its chroma replaced."""
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        lightness = rgb_to_lab(image[..., :3].astype(np.float32) / 255, dim=-1)[..., 0]
        return compose_rgb(lightness, self.predict_ab(lightness))
