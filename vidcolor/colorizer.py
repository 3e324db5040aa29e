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
from collections.abc import Iterator, Sequence
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
# A still's full-resolution float work goes this many pixels at a time: 100 kB of floats, and
# each PyTorch op on a band stays under its 32768-element grain, so it runs on the calling
# thread (workers that meet at every op cost 10x on a busy 2-core machine).
BAND_PIXELS = 1 << 13


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


def _bands(height: int, width: int) -> Iterator[slice]:
    """Row ranges of about BAND_PIXELS pixels, top to bottom."""
    step = max(1, BAND_PIXELS // width)
    return (slice(top, min(top + step, height)) for top in range(0, height, step))


def still_lightness(image: np.ndarray) -> np.ndarray:
    """uint8 or uint16 gray [H, W] or RGB [H, W, 3+] -> CIE L* [H, W] float32.

    A band of rows at a time: the float RGB and CIELAB of a whole 24-megapixel still would
    take gigabytes.
    """
    scale = np.float32(np.iinfo(image.dtype).max)
    lightness = np.empty(image.shape[:2], np.float32)
    for rows in _bands(*lightness.shape):
        band = image[rows].astype(np.float32) / scale
        band = np.repeat(band[..., None], 3, axis=2) if band.ndim == 2 else band[..., :3]
        lightness[rows] = rgb_to_lab(band, dim=-1)[..., 0]
    return lightness


def compose_rgb(lightness: np.ndarray, ab: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Full-resolution L [H, W] + ab at any size [2, h, w] -> RGB [H, W, 3]: uint8, or into
    ``out`` (uint8 or uint16, a view of a larger array will do).

    ab is stretched as ``cv2.resize`` (linear) would, but across the full width only, then to
    each band of rows in turn, so full-resolution floats exist for one band at a time.
    """
    h, w = lightness.shape
    if out is None:
        out = np.empty((h, w, 3), np.uint8)
    top = np.float32(np.iinfo(out.dtype).max)
    wide = np.stack([cv2.resize(c, (w, c.shape[0]), interpolation=cv2.INTER_LINEAR) for c in ab])
    for rows in _bands(h, w):
        lab = np.concatenate((lightness[None, rows], _stretch_rows(wide, rows, h)))
        out[rows] = np.clip(lab_to_rgb(lab).transpose(1, 2, 0) * top + 0.5, 0, top)
    return out


def _stretch_rows(small: np.ndarray, rows: slice, height: int) -> np.ndarray:
    """Rows ``rows`` of [C, h, W] ``small`` stretched linearly to ``height`` rows, as
    ``cv2.resize`` does (pixel centres aligned, edge rows repeated)."""
    h = small.shape[1]
    y = np.clip((np.arange(rows.start, rows.stop, dtype=np.float32) + 0.5) * (h / height) - 0.5,
                0, h - 1)
    below = y.astype(np.intp)  # floor: y >= 0
    above = np.minimum(below + 1, h - 1)
    weight = (y - below)[:, None]
    return small[:, below] * (1 - weight) + small[:, above] * weight


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

    def colorize_rgb(self, image: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """uint8 or uint16 RGB (or gray) still -> RGB of the same type, or into ``out``; its
        own L* is kept, its chroma replaced."""
        lightness = still_lightness(image)
        if out is None:
            out = np.empty(image.shape[:2] + (3,), image.dtype)
        return compose_rgb(lightness, self.predict_ab(lightness), out)
