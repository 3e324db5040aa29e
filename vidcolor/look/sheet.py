"""A contact sheet: frames spread over a film, each gray | colour with its time beneath, in one
image, so the look can be judged in seconds before a long render.

Each sample is reached by seeking (to the keyframe before it, then decoding forward to its
time), so a feature film costs a few GOPs per sample, not a pass over the film. Samples are
colorized one by one through the file pipeline's frame chain (no temporal stage: they are
far apart), with the same look. Tiles show frames as players do: turned by the display
matrix and stretched by the sample aspect ratio.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import TYPE_CHECKING

import av
import cv2
import numpy as np

from vidcolor.framecolor import FrameColor
from vidcolor.io.atomic import check_destination
from vidcolor.io.errors import InputError
from vidcolor.io.images import check_format, write_image
from vidcolor.io.passthrough import output_origin
from vidcolor.io.reader import VideoReader, open_video
from vidcolor.specs import LookSpec, ModelSpec

if TYPE_CHECKING:
    from vidcolor.colorizer import Colorizer

COLUMNS = 3
PAIR_WIDTH = 640  # px of one gray | colour tile on the sheet
CAPTION = 30  # px of the band under each tile
BACKGROUND = (24, 24, 24)
TEXT = (235, 235, 235)


def contact_sheet(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    model: ModelSpec | None = None,
    colorizer: Colorizer | None = None,
    look: LookSpec = LookSpec(),
    samples: int = 12,
    overwrite: bool = False,
) -> dict:
    """Write the contact sheet of the video ``src`` to the image ``dst``; returns a summary
    (output, sample times in seconds, seconds taken, the look's controls). Times are counted
    as the colorized file's are, from the film's start (``passthrough.output_origin``)."""
    if colorizer is not None and model is not None:
        raise ValueError("give a model spec or a ready colorizer, not both")
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    started = time.perf_counter()
    check_format(check_destination(dst, src, overwrite=overwrite))
    chain = FrameColor(colorizer or (model or ModelSpec()).build(calls=1), "yuv444p",
                       look.build(), side_by_side=True)
    tiles, times = [], []
    with open_video(src, copy_types=()) as reader:
        rotation, sar = reader.info.rotation, reader.info.sample_aspect_ratio
        origin = float(output_origin(reader.info.start_time))
        for frame in sample_frames(reader, samples):
            slot = chain.prepare(frame)
            chain.infer([slot])
            pair = chain.finish(slot, slot.predicted).to_ndarray(format="rgb24")
            halves = np.hsplit(pair, 2)  # gray | colour, each turned and stretched alone
            pair = np.hstack([as_displayed(half, rotation, sar) for half in halves])
            times.append(round(float(frame.time or 0.0) - origin, 3))
            tiles.append(_tile(pair, times[-1]))
    write_image(dst, _grid(tiles), src=src, overwrite=overwrite)
    return {"output": str(dst), "kind": "contact sheet", "samples": len(tiles), "times": times,
            "seconds": round(time.perf_counter() - started, 3)}


def sample_times(start: float, duration: float, count: int) -> list[float]:
    """``count`` times spread evenly over the film: the middles of equal slices."""
    return [start + duration * (i + 0.5) / count for i in range(count)]


def sample_frames(reader: VideoReader, count: int) -> Iterator[av.VideoFrame]:
    """The first frame at or after each of ``count`` evenly spread times (the last frame where
    the film ends before one), each reached by the reader's seek; the reader copies no
    streams."""
    info, stream, src = reader.info, reader.video_stream, reader.src
    if info.duration is None:
        raise InputError(f"{src}: its duration is unknown, so samples cannot be spread over it")
    start = float(stream.start_time * info.time_base) if stream.start_time is not None else 0.0
    for at in sample_times(start, info.duration, count):
        reader.seek(int(at / info.time_base))
        frame = _frame_from(iter(reader), at)
        if frame is None:
            raise InputError(f"{src}: no decodable frame near {_clock(at)}")
        yield frame


def as_displayed(image: np.ndarray, rotation: int, sar: Fraction | None) -> np.ndarray:
    """``image`` as a player shows it: pixels ``sar`` wide (stretched, never shrunk in height),
    then turned ``rotation`` degrees counter-clockwise (FFmpeg's display matrix angle, in
    quarter turns)."""
    if sar and sar != 1:
        h, w = image.shape[:2]
        image = cv2.resize(image, (max(1, round(w * sar)), h), interpolation=cv2.INTER_AREA
                           if sar < 1 else cv2.INTER_CUBIC)
    return np.ascontiguousarray(np.rot90(image, round(rotation / 90) % 4))


def _frame_from(frames: Iterator[av.VideoFrame], at: float) -> av.VideoFrame | None:
    last = None
    for frame in frames:  # the reader yields only frames when it copies no streams
        last = frame
        if frame.time is not None and frame.time >= at:
            break
    return last


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(seconds, 0.0), 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{secs:04.1f}"


def _tile(pair: np.ndarray, seconds: float) -> np.ndarray:
    """A gray | colour frame, shrunk to the sheet's tile width, with its time beneath."""
    h, w = pair.shape[:2]
    height = max(2, round(h * PAIR_WIDTH / w))
    shrunk = cv2.resize(pair, (PAIR_WIDTH, height), interpolation=cv2.INTER_AREA)
    band = np.full((CAPTION, PAIR_WIDTH, 3), BACKGROUND, np.uint8)
    cv2.putText(band, _clock(seconds), (8, CAPTION - 9), cv2.FONT_HERSHEY_SIMPLEX, 0.6, TEXT, 1,
                cv2.LINE_AA)
    return np.vstack((shrunk, band))


def _grid(tiles: list[np.ndarray]) -> np.ndarray:
    """Tiles in rows of COLUMNS, a thin gap between them."""
    columns = min(COLUMNS, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    th, tw = tiles[0].shape[:2]
    gap = 4
    sheet = np.full((rows * (th + gap) + gap, columns * (tw + gap) + gap, 3), BACKGROUND, np.uint8)
    for index, tile in enumerate(tiles):
        top, left = gap + (index // columns) * (th + gap), gap + (index % columns) * (tw + gap)
        sheet[top:top + th, left:left + tw] = tile
    return sheet


