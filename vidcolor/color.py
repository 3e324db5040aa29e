"""The one definition of colour in vidcolor.

sRGB (D65) <-> CIELAB and R'G'B' <-> Y'CbCr, written once in torch so that
inference (CPU or CUDA) and training share the exact same arithmetic. NumPy
arrays are accepted too and come back as NumPy. The constants follow
scikit-image's ``rgb2lab``/``lab2rgb`` (CIE 1931 2-degree observer, D65 white),
which the tests check against.

This module imports nothing else from vidcolor.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypeVar

import numpy as np
import torch

Array = TypeVar("Array", torch.Tensor, np.ndarray)

_XYZ_FROM_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
_D65_WHITE = (0.95047, 1.0, 1.08883)
_EPSILON = 0.008856  # (6/29)**3, CIE threshold of the cube-root branch
_KAPPA = 7.787  # slope of the linear branch, as in scikit-image

# (Kr, Kb) of each Y'CbCr matrix.
LUMA_COEFFICIENTS: dict[str, tuple[float, float]] = {
    "bt601": (0.299, 0.114),
    "bt709": (0.2126, 0.0722),
    "bt2020": (0.2627, 0.0593),
}


def _as_tensor(x: Array) -> tuple[torch.Tensor, bool]:
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(x)), True
    if not x.is_floating_point():
        x = x.float()
    return x, False


def _back(x: torch.Tensor, was_numpy: bool) -> Array:
    return x.numpy() if was_numpy else x


def _matrix(rows: tuple, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(rows, dtype=like.dtype, device=like.device)


def _mix(x: torch.Tensor, matrix: torch.Tensor, dim: int) -> torch.Tensor:
    """Apply a 3x3 matrix along the channel axis ``dim``."""
    return torch.movedim(torch.movedim(x, dim, -1) @ matrix.T, -1, dim)


def srgb_to_linear(v: torch.Tensor) -> torch.Tensor:
    return torch.where(v > 0.04045, ((v + 0.055) / 1.055).clamp_min(0) ** 2.4, v / 12.92)


def linear_to_srgb(v: torch.Tensor) -> torch.Tensor:
    return torch.where(v > 0.0031308, 1.055 * v.clamp_min(0.0031308) ** (1 / 2.4) - 0.055, v * 12.92)


def rgb_to_lab(rgb: Array, dim: int = -3) -> Array:
    """sRGB in [0, 1] -> CIELAB (L in 0..100, a/b roughly -128..127)."""
    x, was_numpy = _as_tensor(rgb)
    xyz = _mix(srgb_to_linear(x), _matrix(_XYZ_FROM_RGB, x), dim)
    white = _matrix(_D65_WHITE, x).reshape((3,) + (1,) * (x.dim() - 1 - (dim % x.dim())))
    t = xyz / white
    f = torch.where(t > _EPSILON, t.clamp_min(_EPSILON) ** (1 / 3), _KAPPA * t + 16 / 116)
    fx, fy, fz = f.unbind(dim)
    lab = torch.stack((116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)), dim)
    return _back(lab, was_numpy)


def lab_to_rgb(lab: Array, dim: int = -3) -> Array:
    """CIELAB -> sRGB in [0, 1], clipped to the gamut like scikit-image."""
    x, was_numpy = _as_tensor(lab)
    lightness, a, b = x.unbind(dim)
    fy = (lightness + 16) / 116
    f = torch.stack((fy + a / 500, fy, (fy - b / 200).clamp_min(0)), dim)
    t = torch.where(f > 0.2068966, f**3, (f - 16 / 116) / _KAPPA)
    white = _matrix(_D65_WHITE, x).reshape((3,) + (1,) * (x.dim() - 1 - (dim % x.dim())))
    rgb_from_xyz = torch.linalg.inv(_matrix(_XYZ_FROM_RGB, x).double()).to(x.dtype)
    rgb = linear_to_srgb(_mix(t * white, rgb_from_xyz, dim)).clamp(0, 1)
    return _back(rgb, was_numpy)


def luminance_to_lightness(y: Array) -> Array:
    """Relative luminance Y (0..1, D65 white = 1) -> CIE L* (0..100), as in :func:`rgb_to_lab`.

    For lightness from a sensitivity other than the eye's (an orthochromatic film stock
    weighs linear R, G and B its own way), computed with the same constants.
    """
    x, was_numpy = _as_tensor(y)
    f = torch.where(x > _EPSILON, x.clamp_min(_EPSILON) ** (1 / 3), _KAPPA * x + 16 / 116)
    return _back(116 * f - 16, was_numpy)


@lru_cache(maxsize=2)
def lightness_table(full_range: bool) -> np.ndarray:
    """L* of the neutral gray for each 8-bit luma code: [256] float32."""
    codes = torch.arange(256, dtype=torch.float64)
    v = codes / 255 if full_range else ((codes - 16) / 219).clamp(0, 1)
    gray = v.reshape(256, 1).expand(256, 3)
    return rgb_to_lab(gray, dim=-1)[:, 0].float().numpy()


def luma_to_lightness(y: np.ndarray, full_range: bool) -> np.ndarray:
    """L* of the neutral gray whose sRGB code value is the luma sample.

    This is how a grayscale frame is read by the model: every pixel is taken
    as a neutral gray, so a frame's chroma never leaks into the prediction.
    """
    if y.dtype != np.uint8:
        raise TypeError(f"expected uint8 luma, got {y.dtype}")
    return lightness_table(bool(full_range))[y]


def _ycbcr_rows(matrix: str) -> tuple:
    try:
        kr, kb = LUMA_COEFFICIENTS[matrix]
    except KeyError:
        raise ValueError(f"unknown Y'CbCr matrix {matrix!r}") from None
    kg = 1 - kr - kb
    return (
        (kr, kg, kb),
        (-kr / (2 * (1 - kb)), -kg / (2 * (1 - kb)), 0.5),
        (0.5, -kg / (2 * (1 - kr)), -kb / (2 * (1 - kr))),
    )


def _range_scale(full_range: bool) -> tuple[float, float]:
    """(luma scale, chroma scale) from unit R'G'B' to 8-bit code values."""
    return (255.0, 255.0) if full_range else (219.0, 224.0)


def rgb_to_ycbcr(rgb: Array, matrix: str = "bt709", full_range: bool = False, dim: int = -3) -> Array:
    """Gamma-encoded R'G'B' in [0, 1] -> Y'CbCr as 8-bit code values (float)."""
    x, was_numpy = _as_tensor(rgb)
    ycc = _mix(x, _matrix(_ycbcr_rows(matrix), x), dim)
    y_scale, c_scale = _range_scale(full_range)
    y, cb, cr = ycc.unbind(dim)
    offset = 0.0 if full_range else 16.0
    out = torch.stack((y * y_scale + offset, cb * c_scale + 128, cr * c_scale + 128), dim)
    return _back(out, was_numpy)


def ycbcr_to_rgb(ycc: Array, matrix: str = "bt709", full_range: bool = False, dim: int = -3) -> Array:
    """Y'CbCr 8-bit code values (float) -> R'G'B' in [0, 1], clipped."""
    x, was_numpy = _as_tensor(ycc)
    y_scale, c_scale = _range_scale(full_range)
    offset = 0.0 if full_range else 16.0
    y, cb, cr = x.unbind(dim)
    unit = torch.stack(((y - offset) / y_scale, (cb - 128) / c_scale, (cr - 128) / c_scale), dim)
    inverse = torch.linalg.inv(_matrix(_ycbcr_rows(matrix), x).double()).to(x.dtype)
    return _back(_mix(unit, inverse, dim).clamp(0, 1), was_numpy)
