"""A video's timeline cut at keyframes into segments that can be colorized apart.

Planning demuxes the video packets only (no decoding), so it takes a second for a feature.
A segment owns the frames whose pts lie in ``[start, end)``, ``start`` being a keyframe's. It
is colorized by decoding from the keyframe at or before ``warm``, running the frames from
``warm`` on through the model and the temporal stage without writing those before ``start``
(so the stage has its history at the seam: no colour jump where two parts meet), and, for a
look-ahead stage, reading a few frames past ``end`` that it needs but does not write either.
"""

from __future__ import annotations

import bisect
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

from vidcolor.io.errors import InputError
from vidcolor.io.timeline import SplicedTimeline
from vidcolor.io.writer import VideoWriter
from vidcolor.progress import Progress
from vidcolor.scale import SEGMENT_SECONDS

# Frames run through the temporal stage before a segment and not written: its detail band
# remembers about 10 frames, its region band's weight is mostly built after 30.
OVERLAP = 32


@dataclass(frozen=True)
class Segment:
    """Frames with pts in ``[start, end)`` (video time base; ``end`` None: to the end of the
    file), ``frames`` of them; decoding starts at the keyframe ``seek``, the stage warms from
    ``warm``."""

    index: int
    start: int
    end: int | None
    warm: int
    seek: int
    frames: int

    def read(self, reader: Any, after: int = 0) -> Iterator[Any]:
        """The frames of ``reader`` (a :class:`~vidcolor.io.reader.VideoReader` opened without
        carried streams) the pipeline runs: from ``warm`` to ``end``, plus ``after`` frames
        past ``end`` for a stage that looks ahead."""
        reader.seek(self.seek)
        past = 0
        for frame in reader:
            if frame.pts < self.warm:
                continue
            if self.end is not None and frame.pts >= self.end:
                past += 1
                if past > after:
                    return
            yield frame

    def write(self, writer: VideoWriter, progress: Progress) -> _SegmentWriter:
        """``writer`` taking only this segment's own frames, counting them on ``progress``."""
        return _SegmentWriter(writer, self, progress)


class _SegmentWriter:
    """A :class:`VideoWriter` that drops the warm-up and look-ahead frames."""

    def __init__(self, writer: VideoWriter, segment: Segment, progress: Progress) -> None:
        self._writer, self._segment, self._progress = writer, segment, progress

    def write(self, frame: av.VideoFrame) -> None:
        end = self._segment.end
        if frame.pts >= self._segment.start and (end is None or frame.pts < end):
            self._writer.write(frame)
            self._progress.advance(1)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._writer, name)


def plan(src: str | os.PathLike[str], seconds: float = SEGMENT_SECONDS,
         at_least: int = 1) -> list[Segment]:
    """Cut ``src``'s video at keyframes into segments of about ``seconds`` (shorter where that
    gives fewer than ``at_least``, so that every worker has work), each with its warm-up.

    A file whose video packets have no timestamps cannot be cut: :class:`InputError`.
    """
    pts, keys, time_base = _video_timeline(src)
    span = (pts[-1] - pts[0]) * time_base
    step = min(seconds, float(span) / at_least) if at_least > 1 else seconds
    count = max(1, math.ceil(float(span) / step - 1e-9)) if step > 0 else 1
    bounds = _keyframe_bounds(pts[0], keys, time_base, float(span) / count)
    segments = []
    for index, start in enumerate(bounds):
        end = bounds[index + 1] if index + 1 < len(bounds) else None
        first = bisect.bisect_left(pts, start)
        last = len(pts) if end is None else bisect.bisect_left(pts, end)
        warm = pts[max(0, first - OVERLAP)]
        seek = keys[bisect.bisect_right(keys, warm) - 1]
        segments.append(Segment(index, start, end, warm, seek, last - first))
    return segments


def _video_timeline(src: str | os.PathLike[str]) -> tuple[list[int], list[int], Fraction]:
    """Sorted pts of every video packet, of the keyframes among them (the first frame counts
    as one: decoding starts there), and their time base."""
    with av.open(str(src)) as container:
        if not container.streams.video:
            raise InputError(f"{src}: no video stream")
        stream = container.streams.video[0]
        pts, keys = [], []
        timeline = SplicedTimeline(container)
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.pts is None:
                raise InputError(f"{src}: video packets without timestamps cannot be cut into "
                                 "segments; run it without --resume and --workers")
            timeline.place(packet)
            if timeline.joins:  # its pieces' sound would have to be joined the same way
                raise InputError(f"{src}: its clock restarts midway (a spliced recording), "
                                 "so it cannot be cut into segments; run it without --resume "
                                 "and --workers")
            pts.append(packet.pts)
            if packet.is_keyframe:
                keys.append(packet.pts)
        if not pts:
            raise InputError(f"{src}: no video packets")
        pts.sort()
        keys = sorted({pts[0], *(k for k in keys if k > pts[0])})
        return pts, keys, stream.time_base


def _keyframe_bounds(first: int, keys: list[int], time_base: Fraction, seconds: float) -> list[int]:
    """Segment starts: the first frame, then each keyframe at least ``seconds`` after the
    last start."""
    bounds = [first]
    for key in keys:
        if float((key - bounds[-1]) * time_base) >= seconds - 1e-6:
            bounds.append(key)
    return bounds
