"""Still images in and out, through OpenCV (TIFF is written with tifffile).

A still is read as it is, so it can go back out the same: every page of a multipage TIFF, at
its own depth (8 or 16 bits; float is reduced to 8), gray or colour, with its alpha plane, and
with its EXIF orientation applied. The colorizer uses only the colour. Writing goes through a
hidden temporary file so a failed or interrupted write never leaves a broken image. TIFF is
written with tifffile because OpenCV marks no fourth channel as alpha (no ExtraSamples tag).
"""

from __future__ import annotations

import io
import logging
import os
import struct
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from .atomic import check_destination, commit, discard, temp_path
from .errors import InputError, OutputError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"})
_TIFF_SUFFIXES = frozenset({".tif", ".tiff"})
_DEEP_SUFFIXES = frozenset({".png", ".tif", ".tiff"})  # the formats written with 16-bit samples
_FLAT_SUFFIXES = frozenset({".jpg", ".jpeg"})  # the formats without alpha
_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")  # classic and BigTIFF, either byte order
_EXIF_ORIENTATION = 0x0112
_UNSPECIFIED = 0  # a TIFF extra sample that is neither kind of alpha
_WRITE_PARAMS = {
    ".jpg": [cv2.IMWRITE_JPEG_QUALITY, 95],
    ".jpeg": [cv2.IMWRITE_JPEG_QUALITY, 95],
    ".webp": [cv2.IMWRITE_WEBP_QUALITY, 95],
}


def is_image(path: str | os.PathLike[str]) -> bool:
    """True when the extension is one of the still-image formats vidcolor handles."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an image file's first page to RGB uint8 [H, W, 3] (alpha dropped)."""
    page = _to_uint8(read_pages(path)[0])
    return np.repeat(page[..., None], 3, axis=2) if page.ndim == 2 else np.ascontiguousarray(page[..., :3])


def read_pages(path: str | os.PathLike[str]) -> list[np.ndarray]:
    """Decode every page of an image file (a TIFF may hold several), each as gray [H, W], RGB
    [H, W, 3] or RGBA [H, W, 4], uint8 or uint16."""
    path = Path(path)
    try:
        data = np.fromfile(path, np.uint8)  # also works for non-ASCII paths
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    try:
        pages = _decode_tiff(path, data) if data[:4].tobytes() in _TIFF_MAGIC else _decode(data)
    except cv2.error:
        pages = []
    if not pages:
        raise InputError(f"cannot read {path}: not a supported image")
    return [_as_rgb_order(path, page) for page in pages]


def check_format(path: str | os.PathLike[str], pages: int = 1) -> None:
    """Refuse an output whose format vidcolor cannot write, or cannot hold ``pages`` pages
    (only TIFF holds several)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise OutputError(f"cannot write {path.name}: unsupported image extension {suffix!r}")
    if pages > 1 and suffix not in _TIFF_SUFFIXES:
        raise OutputError(f"cannot write {path.name}: the input has {pages} pages and only TIFF "
                          "holds more than one; choose a .tif output")


def write_image(
    path: str | os.PathLike[str],
    image: np.ndarray,
    *,
    src: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Encode one gray, RGB or RGBA image (uint8 or uint16) by the extension of ``path``."""
    return write_pages(path, [image], src=src, overwrite=overwrite)


def write_pages(
    path: str | os.PathLike[str],
    pages: Sequence[np.ndarray],
    *,
    src: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Encode pages as :func:`read_pages` gives them; the file appears complete.

    16-bit samples stay 16-bit in PNG and TIFF and are reduced to 8 bits elsewhere; alpha is
    kept in every format but JPEG, which cannot hold it (a warning says so).
    """
    dst = check_destination(path, src, overwrite=overwrite)
    check_format(dst, len(pages))
    tiff = dst.suffix.lower() in _TIFF_SUFFIXES
    encoded = _encode_tiff(pages) if tiff else _encode(dst, pages[0])
    tmp = temp_path(dst)
    try:
        with open(tmp, "wb") as file:
            file.write(encoded)
        return commit(tmp, dst, replace=overwrite)
    except OSError as err:
        raise OutputError(f"cannot write {dst}: {err.strerror or err}") from None
    finally:
        discard(tmp)


def _decode(data: np.ndarray) -> list[np.ndarray]:
    """A single-page file, turned as its EXIF orientation says (OpenCV does so only when it
    drops alpha)."""
    if not data.size:
        return []
    image, kinds, blocks = cv2.imdecodeWithMetadata(data, cv2.IMREAD_UNCHANGED)
    if image is None or not image.size:
        return []
    exif = [block.tobytes() for kind, block in zip(kinds, blocks, strict=True)
            if kind == cv2.IMAGE_METADATA_EXIF]
    return [_oriented(image, _exif_orientation(exif[0]) if exif else 1)]


def _decode_tiff(path: Path, data: np.ndarray) -> list[np.ndarray]:
    """Every page of a TIFF (libtiff applies the orientation tag itself)."""
    ok, pages = cv2.imdecodemulti(data, cv2.IMREAD_UNCHANGED)
    if not ok:
        return []
    extras = _tiff_extra_samples(path)
    if len(extras) != len(pages):  # not what OpenCV read: take its pages as they are
        return list(pages)
    return [_tiff_alpha(path, n, page, kinds)
            for n, (page, kinds) in enumerate(zip(pages, extras, strict=True))]


def _tiff_extra_samples(path: Path) -> list[tuple[int, ...]]:
    """What each page's samples beyond the colour ones are (TIFF ExtraSamples)."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tiff:
            return [tuple(page.extrasamples) for page in tiff.pages]
    except (tifffile.TiffFileError, OSError):
        return []


def _tiff_alpha(path: Path, number: int, page: np.ndarray, extras: tuple[int, ...]) -> np.ndarray:
    """A page with the alpha its file declares: libtiff makes up an opaque fourth channel for
    CMYK (dropped here) and premultiplies 8-bit colour by alpha (undone here)."""
    alpha = bool(extras) and extras[0] != _UNSPECIFIED
    if page.ndim == 2:
        if alpha:
            log.warning("%s: page %d: OpenCV reads no alpha from a gray TIFF page; it is dropped",
                        path.name, number + 1)
        return page
    if page.shape[2] != 4:
        return page
    if not extras:
        return page[..., :3]
    if alpha and page.dtype == np.uint8:
        return cv2.cvtColor(page, cv2.COLOR_mRGBA2RGBA)  # channel order does not matter here
    return page


def _exif_orientation(exif: bytes) -> int:
    """The Orientation tag of an EXIF block's first directory: 1 to 8, 1 when absent."""
    order = {b"II": "<", b"MM": ">"}.get(exif[:2])
    if order is None:
        return 1
    try:
        (start,) = struct.unpack_from(order + "I", exif, 4)
        (count,) = struct.unpack_from(order + "H", exif, start)
        for entry in range(start + 2, start + 2 + 12 * count, 12):
            tag, kind, _, value = struct.unpack_from(order + "HHIH", exif, entry)
            if tag == _EXIF_ORIENTATION and kind == 3:  # SHORT
                return value if 1 <= value <= 8 else 1
    except struct.error:  # a truncated block
        pass
    return 1


def _oriented(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an image as stored into the one to display (EXIF orientations 1 to 8)."""
    if orientation >= 5:  # 5-8 swap width and height
        image = image.swapaxes(0, 1)
    if orientation in (3, 4, 7, 8):
        image = image[::-1]
    if orientation in (2, 3, 6, 7):
        image = image[:, ::-1]
    return image


def _as_rgb_order(path: Path, page: np.ndarray) -> np.ndarray:
    """OpenCV's page (BGR, BGRA or gray; any sample type) as gray, RGB or RGBA, 8 or 16 bits."""
    if page.dtype.kind == "f":
        page = _to_uint8(page)
    elif page.dtype not in (np.uint8, np.uint16):
        raise InputError(f"cannot read {path}: unsupported image sample type {page.dtype}")
    if page.ndim == 3 and page.shape[2] == 1:
        page = page[..., 0]
    if page.ndim == 2:
        return np.ascontiguousarray(page)
    if page.shape[2] not in (3, 4):
        raise InputError(f"cannot read {path}: unsupported {page.shape[2]}-channel image")
    swap = cv2.COLOR_BGR2RGB if page.shape[2] == 3 else cv2.COLOR_BGRA2RGBA
    return cv2.cvtColor(np.ascontiguousarray(page), swap)


def _encode(dst: Path, page: np.ndarray) -> np.ndarray:
    """One page in the format of ``dst`` (not TIFF), through OpenCV."""
    suffix = dst.suffix.lower()
    if suffix not in _DEEP_SUFFIXES:
        page = _to_uint8(page)
    if suffix in _FLAT_SUFFIXES and page.ndim == 3 and page.shape[2] == 4:
        log.warning("%s: JPEG cannot hold alpha; the alpha channel is dropped", dst.name)
        page = page[..., :3]
    if page.ndim == 3:
        swap = cv2.COLOR_RGB2BGR if page.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        page = cv2.cvtColor(np.ascontiguousarray(page), swap)
    ok, encoded = cv2.imencode(suffix, page, _WRITE_PARAMS.get(suffix, []))
    if not ok:
        raise OutputError(f"cannot encode {dst.name}")
    return encoded


def _encode_tiff(pages: Sequence[np.ndarray]) -> memoryview:
    """Pages as one TIFF (deflate), a fourth channel marked as unassociated alpha."""
    import tifffile

    buffer = io.BytesIO()
    with tifffile.TiffWriter(buffer) as tiff:
        for page in pages:
            colour = page.ndim == 3
            tiff.write(page, photometric="rgb" if colour else "minisblack", compression="zlib",
                       predictor=True, metadata=None,
                       extrasamples=["unassalpha"] if colour and page.shape[2] == 4 else None)
    return buffer.getbuffer()


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint16:
        image = ((image.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif image.dtype.kind == "f":
        image = np.clip(np.nan_to_num(image) * 255 + 0.5, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise InputError(f"unsupported image sample type {image.dtype}")
    return np.ascontiguousarray(image)
