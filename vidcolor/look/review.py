"""Gray | colour, side by side in one frame: the review output of ``--side-by-side`` and the
tiles of the contact sheet."""

from __future__ import annotations

import dataclasses

import av
import numpy as np

from vidcolor.io.planes import OUTPUT_FORMATS, LumaFrame, chroma_size, depth_of, merge_planes

NEUTRAL = 128  # Cb, Cr of a gray pixel, limited or full range


def beside(gray: LumaFrame, colour: av.VideoFrame) -> av.VideoFrame:
    """The input's luma (neutral chroma) left, the colour frame right: one frame twice as
    wide, in the colour frame's layout, with the input's timing and tags.

    Where an odd width leaves a chroma column shared by both halves, it goes to the colour
    half: a review picture, one pixel off at the seam at most.
    """
    pix_fmt = colour.format.name
    if depth_of(pix_fmt) > 8:  # a review picture: built at 8 bits (the writer takes it deeper)
        pix_fmt = next(f for f in OUTPUT_FORMATS if pix_fmt.startswith(f))
        colour = colour.reformat(format=pix_fmt)
    width, height = gray.width + colour.width, gray.height
    wide = dataclasses.replace(gray, y=np.hstack((gray.y, _plane(colour, 0))))
    rows, columns = chroma_size(pix_fmt, width, height)
    cb, cr = (np.hstack((np.full((rows, columns - plane.shape[1]), NEUTRAL, np.uint8), plane))
              for plane in (_plane(colour, 1), _plane(colour, 2)))
    return merge_planes(wide, cb, cr, pix_fmt)


def _plane(frame: av.VideoFrame, index: int) -> np.ndarray:
    """An 8-bit plane of a planar YUV frame, as a view without the stride padding."""
    height, width = (frame.height, frame.width) if index == 0 else chroma_size(
        frame.format.name, frame.width, frame.height)
    plane = frame.planes[index]
    return np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[:height, :width]
