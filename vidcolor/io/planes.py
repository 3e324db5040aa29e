"""Decoded frames to an 8-bit luma plane and back to an encodable YUV frame.

The colorizer only ever sees luma and returns chroma, so the output frame is built from the
input's own luma bytes; for 8-bit YUV inputs (planar or semi-planar, limited or full range)
those bytes pass through untouched. Other inputs are first brought to 8-bit luma:

* 9..16-bit planar YUV / gray: rounded right shift in numpy (deterministic, no dithering),
  for the network; the plane is kept at its own depth too, and an output layout as deep
  (``yuv422p10le`` for a 10-bit scan) gets those codes untouched;
* RGB, BGR, palette (cinepak, pal8 GIF-like codecs), packed, semi-planar deep (P010) or
  exotic formats: swscale to BT.601 limited-range YUV, which is what the output is then
  tagged as (at 16 bits where the source is deeper than 8: an RGB scan keeps its depth).

Gray inputs are full range unless tagged otherwise (as swscale treats them).
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

#: Output layouts ``merge_planes`` builds, by preference for a matching input; each also at
#: a depth of :data:`DEPTHS` bits (``yuv420p10le``), for deeper inputs.
OUTPUT_FORMATS = ("yuv420p", "yuv422p", "yuv444p")
DEPTHS = (10, 12, 16)

# FFmpeg AVColorSpace / AVColorRange values used below.
_BT709, _FCC, _BT470BG, _SMPTE170M, _SMPTE240M, _BT2020NC, _BT2020C = 1, 4, 5, 6, 7, 9, 10
_MPEG, _JPEG = 1, 2
_HIGH_BIT_PLANAR = re.compile(r"^(gray|yuva?4[0-4][0-4]p)(9|10|12|14|16)(le|be)$")


@dataclass(frozen=True)
class LumaFrame:
    """One frame's 8-bit luma plus what is needed to rebuild and encode it."""

    y: np.ndarray  # uint8 [H, W], C-contiguous, no stride padding, not in the frame's buffer
    matrix: str  # "bt601" | "bt709" | "bt2020": how Y'CbCr relates to R'G'B'
    full_range: bool  # True: 0..255 codes; False: 16..235 luma
    pts: int | None
    time_base: Fraction | None
    duration: int
    color_range: int
    color_primaries: int
    color_trc: int
    colorspace: int
    # The plane as decoded, uint16 codes of ``bits`` bits, where it is deeper than 8 bits;
    # None where ``y`` is the plane itself, or once a step changed ``y``.
    deep: np.ndarray | None = None
    bits: int = 8

    @property
    def height(self) -> int:
        return self.y.shape[0]

    @property
    def width(self) -> int:
        return self.y.shape[1]


def split_luma(frame: av.VideoFrame) -> LumaFrame:
    """Copy a decoded frame's luma out as 8-bit, with its matrix, range, timing and tags."""
    fmt = frame.format
    colorspace, color_range = frame.colorspace, frame.color_range
    if _needs_swscale(fmt):
        colorspace, color_range = _SMPTE170M, _MPEG
        frame = frame.reformat(
            format="yuv444p16le" if fmt.components[0].bits > 8 else "yuv444p",
            dst_colorspace=colorspace, dst_color_range=color_range
        )
        fmt = frame.format
    bits = fmt.components[0].bits
    plane = _plane_array(frame.planes[0], fmt, frame.width, frame.height)
    y = _luma_8bit(plane, bits)
    deep = plane.astype(np.uint16) if bits > 8 else None  # native order, its own memory
    full_range = (
        color_range == _JPEG
        or fmt.name.startswith("yuvj")
        or (fmt.name.startswith("gray") and color_range != _MPEG)
    )
    return LumaFrame(
        y=y,
        matrix=_matrix(colorspace, frame.height),
        full_range=full_range,
        pts=frame.pts,
        time_base=frame.time_base,
        duration=frame.duration,
        color_range=_JPEG if full_range else color_range,
        color_primaries=frame.color_primaries,
        color_trc=frame.color_trc,
        colorspace=colorspace,
        deep=deep,
        bits=bits if deep is not None else 8,
    )


def depth_of(pix_fmt: str) -> int:
    """Bits per luma sample of a pixel format (of an output layout: 8, or one of
    :data:`DEPTHS`)."""
    return av.VideoFormat(pix_fmt, 64, 64).components[0].bits


def chroma_size(pix_fmt: str, width: int, height: int) -> tuple[int, int]:
    """(height, width) of each chroma plane of a ``pix_fmt`` frame of the given size."""
    fmt = av.VideoFormat(pix_fmt, width, height)
    return fmt.chroma_height(), fmt.chroma_width()


def merge_planes(
    luma: LumaFrame, cb: np.ndarray, cr: np.ndarray, pix_fmt: str = "yuv420p"
) -> av.VideoFrame:
    """Build an encodable frame from the original luma and new uint8 Cb/Cr planes.

    In a deeper layout (``yuv420p10le``) the luma is the decoded plane at its own depth
    (rounded if the layout is shallower, as 12-bit into 10), or the 8-bit plane scaled where
    there is none; chroma is scaled as FFmpeg's deeper codes are (``code << (bits - 8)``).
    """
    if pix_fmt not in _LAYOUTS:
        raise ValueError(f"pix_fmt must be one of {OUTPUT_FORMATS} (or 10, 12, 16-bit "
                         f"little-endian), not {pix_fmt!r}")
    want = chroma_size(pix_fmt, luma.width, luma.height)
    for name, plane in (("cb", cb), ("cr", cr)):
        if plane.shape != want or plane.dtype != np.uint8:
            raise ValueError(f"{name} must be uint8 {want}, got {plane.dtype} {plane.shape}")
    bits = depth_of(pix_fmt)
    planes = (luma.y, cb, cr) if bits == 8 else (_deep_luma(luma, bits), *(
        plane.astype(np.uint16) << (bits - 8) for plane in (cb, cr)))
    frame = av.VideoFrame(luma.width, luma.height, pix_fmt)
    dtype = np.dtype(np.uint8 if bits == 8 else "<u2")
    for plane, data in zip(frame.planes, planes, strict=True):
        rows = np.frombuffer(memoryview(plane), dtype).reshape(-1, plane.line_size // dtype.itemsize)
        rows[: data.shape[0], : data.shape[1]] = data
    frame.pts = luma.pts
    frame.time_base = luma.time_base
    frame.duration = luma.duration
    frame.color_range = luma.color_range
    frame.color_primaries = luma.color_primaries
    frame.color_trc = luma.color_trc
    frame.colorspace = luma.colorspace
    return frame


_LAYOUTS = frozenset(OUTPUT_FORMATS) | {f"{f}{bits}le" for f in OUTPUT_FORMATS for bits in DEPTHS}


def _deep_luma(luma: LumaFrame, bits: int) -> np.ndarray:
    """The luma plane as ``bits``-bit codes: the decoded ones where the frame has them."""
    if luma.deep is None:
        return luma.y.astype(np.uint16) << (bits - 8)
    if luma.bits <= bits:
        return luma.deep << (bits - luma.bits)
    shift = luma.bits - bits
    top = (1 << bits) - 1
    return np.minimum((luma.deep.astype(np.uint32) + (1 << (shift - 1))) >> shift, top)


def _needs_swscale(fmt: av.VideoFormat) -> bool:
    """True unless plane 0 holds nothing but luma in a layout numpy can read directly."""
    luma = fmt.components[0]
    if fmt.is_rgb or fmt.has_palette or fmt.is_bayer or not luma.is_luma:
        return True
    if any(c.plane == luma.plane for c in fmt.components[1:]):
        return True  # packed YUV (yuyv422, uyvy422, ...)
    return luma.bits > 8 and not _HIGH_BIT_PLANAR.match(fmt.name)


def _plane_array(plane: av.video.plane.VideoPlane, fmt: av.VideoFormat, w: int, h: int):
    """A view of the plane's pixels, inside the frame's buffer."""
    dtype = np.dtype(np.uint8)
    if fmt.components[0].bits > 8:
        dtype = np.dtype(">u2" if fmt.is_big_endian else "<u2")
    rows = np.frombuffer(memoryview(plane), dtype).reshape(-1, plane.line_size // dtype.itemsize)
    return rows[:h, :w]


def _luma_8bit(pixels: np.ndarray, bits: int) -> np.ndarray:
    """The plane's copy as 8-bit codes (rounded right shift of deeper ones), in its own memory.

    Deeper codes are rounded as ``min((code + half) >> shift, 255)`` with one 16-bit
    temporary: clamping first keeps the sum within 16 bits, and the same result follows.
    """
    y = _own_mapping(pixels.shape)
    if bits == 8:
        y[...] = pixels
        return y
    shift = bits - 8
    half = 1 << (shift - 1)
    codes = np.minimum(pixels, (256 << shift) - half - 1)
    codes += half
    np.right_shift(codes, shift, out=y, casting="unsafe")
    return y


def _own_mapping(shape: tuple[int, int]) -> np.ndarray:
    """A uint8 array in a memory mapping of its own, returned to the system once freed.

    A frame's plane lives on while the pipeline's other threads work on the frame; glibc
    serves arrays this large from the allocating thread's heap once it has freed a few, and
    keeps them there when they are freed, where the encoder's allocations cannot reuse them.
    """
    return np.frombuffer(mmap.mmap(-1, shape[0] * shape[1]), np.uint8).reshape(shape)


def _matrix(colorspace: int, height: int) -> str:
    if colorspace in (_BT2020NC, _BT2020C):
        return "bt2020"
    if colorspace in (_BT709, _SMPTE240M):
        return "bt709"
    if colorspace in (_FCC, _BT470BG, _SMPTE170M):
        return "bt601"
    return "bt709" if height >= 720 else "bt601"  # players' guess for untagged video
