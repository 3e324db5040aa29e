"""Still images in and out as RGB uint8, through OpenCV.

Reading honours EXIF orientation, reduces 16-bit and float images to 8-bit, expands gray to
three channels and drops alpha (the colorizer has no use for it). Writing goes through a
hidden temporary file so a failed or interrupted write never leaves a broken image.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from .atomic import check_destination, commit, discard, temp_path
from .errors import InputError, OutputError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"})
_WRITE_PARAMS = {
    ".jpg": [cv2.IMWRITE_JPEG_QUALITY, 95],
    ".jpeg": [cv2.IMWRITE_JPEG_QUALITY, 95],
    ".webp": [cv2.IMWRITE_WEBP_QUALITY, 95],
}


def is_image(path: str | os.PathLike[str]) -> bool:
    """True when the extension is one of the still-image formats vidcolor handles."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an image file to RGB uint8 [H, W, 3]."""
    path = Path(path)
    try:
        data = np.fromfile(path, np.uint8)  # also works for non-ASCII paths
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR_RGB | cv2.IMREAD_ANYDEPTH) if data.size else None
    if image is None:
        raise InputError(f"cannot read {path}: not a supported image")
    return _to_uint8(image)


def write_image(
    path: str | os.PathLike[str],
    rgb: np.ndarray,
    *,
    src: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Encode RGB uint8 [H, W, 3] by the extension of ``path``; the file appears complete."""
    dst = check_destination(path, src, overwrite=overwrite)
    suffix = dst.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise OutputError(f"cannot write {dst.name}: unsupported image extension {suffix!r}")
    bgr = cv2.cvtColor(np.ascontiguousarray(rgb, np.uint8), cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(suffix, bgr, _WRITE_PARAMS.get(suffix, []))
    if not ok:
        raise OutputError(f"cannot encode {dst.name}")
    tmp = temp_path(dst)
    try:
        encoded.tofile(tmp)
        return commit(tmp, dst, replace=overwrite)
    except OSError as err:
        raise OutputError(f"cannot write {dst}: {err.strerror or err}") from None
    finally:
        discard(tmp)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif image.dtype.kind == "f":
        image = np.clip(np.nan_to_num(image) * 255 + 0.5, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise InputError(f"unsupported image sample type {image.dtype}")
    return np.ascontiguousarray(image)
