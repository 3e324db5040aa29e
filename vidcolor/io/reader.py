"""Open an input, describe its video, and demux every kept stream in one ordered loop.

Iterating a :class:`VideoReader` yields, in demux order, decoded ``av.VideoFrame`` objects
(pts intact) and untouched ``av.Packet`` objects of the audio and subtitle streams. Muxing
them in that order keeps audio in sync and lets nothing pile up between demuxer and muxer.
"""

from __future__ import annotations

import logging
import os
import struct
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
from av.codec.hwaccel import HWAccel, hwdevices_available
from av.sidedata.sidedata import Type as SideDataType

from .errors import InputError, reason
from .planes import split_luma
from .timeline import SplicedTimeline

log = logging.getLogger(__name__)
#: Standard input as FFmpeg names it: ``vidcolor - -o out.mkv`` reads a stream piped in.
STDIN = "pipe:0"
NETWORK_TIMEOUT = 30.0  # seconds a server may stay silent before reading it fails
_WEB_OPTIONS = {"reconnect": "1", "reconnect_on_network_error": "1", "reconnect_delay_max": "10"}
#: What the output carries from the input besides its video (attachments: Matroska's fonts
#: for styled subtitles, cover art; they have no packets).
COPY_TYPES = ("audio", "subtitle", "attachment")

Item = av.VideoFrame | av.Packet
_LOGGED_SKIPS = 5
# Frames above 1080p (pixels) get memory caps: decoder threads here, batches of one in the
# pipeline, a shorter x264 look-ahead in the writer. There the encoder, not the decoder or
# the network, sets the pace, and each frame held costs 8 to 25 MB.
BIG_FRAME = 1920 * 1088
# Decoder threads above 1080p: FFmpeg's choice (a thread per core, plus one) holds a 4K frame
# (12.4 MB) per thread; two still decode 4K faster than the encoder takes it.
_BIG_FRAME_THREADS = 2


@dataclass(frozen=True)
class VideoInfo:
    """What the output needs to look, sound and play like the input."""

    width: int
    height: int
    codec: str
    pix_fmt: str  # decoded format, e.g. "yuv420p", "yuvj420p", "gray10le", "rgb24"
    time_base: Fraction
    average_rate: Fraction | None
    frames: int | None  # frames the decoder will give, when the container says
    duration: float | None  # seconds
    rotation: int  # degrees counter-clockwise, as FFmpeg's display matrix reports it
    display_matrix: tuple[int, ...] | None  # the raw 3x3 (16.16 / 2.30 fixed point) matrix
    sample_aspect_ratio: Fraction | None
    matrix: str  # "bt601" | "bt709" | "bt2020" (guessed by size when untagged)
    full_range: bool
    color_range: int  # FFmpeg enum values, ready to copy onto an encoder
    color_primaries: int
    color_trc: int
    colorspace: int
    metadata: dict[str, str]  # container tags (title, creation_time, ...)
    video_metadata: dict[str, str]  # video stream tags (language, handler_name, ...)
    # FFmpeg's AVFieldOrder: 0 unknown, 1 progressive, 2..5 interlaced (tt, bb, tb, bt)
    field_order: int = 0
    # The container's chapters as PyAV gives them (id, start, end, time_base, metadata)
    chapters: tuple[dict, ...] = ()
    # The container's clock at its first packet, in microseconds (AV_TIME_BASE): 0 for most
    # files, 1.4 s or hours for MPEG-TS and camcorder (AVCHD) clips
    start_time: int = 0


def _moving_picture(container: av.container.InputContainer, src: str) -> av.VideoStream:
    """The first video stream that is not a still attached as cover art (an MP3 or M4A's
    album picture: one frame, not a film)."""
    cover = av.stream.Disposition.attached_pic
    for stream in container.streams.video:
        if not stream.disposition & cover:
            return stream
    if container.streams.video:
        raise InputError(f"{src}: no video stream (its only picture is cover art)")
    raise InputError(f"{src}: no video stream")


class VideoReader:
    """An open input: ``info``, ``video_stream``, ``copy_streams`` and an item iterator.

    ``hwdec`` names a hardware decoder device type (``"cuda"``: NVDEC); codecs it cannot
    decode fall back to software, and frames arrive in system memory like any other.

    ``skipped`` counts video packets and frames dropped as corrupt (or with timestamps that
    do not increase); the first few are logged as warnings on ``vidcolor.io.reader``.
    ``frames_read`` counts the frames yielded; once the input is read to its end,
    :meth:`shortfall` says whether it ended before what its container declares (a cut file).
    """

    def __init__(
        self,
        src: str | os.PathLike[str],
        *,
        format: str | None = None,
        options: dict[str, str] | None = None,
        threads: int = 0,
        copy_types: Sequence[str] = COPY_TYPES,
        hwdec: str | None = None,
    ) -> None:
        self.src = str(src)
        self.skipped = 0
        self.frames_read = 0
        self._ended = False
        self.container = _open(self.src, format, options, hwdec)
        try:
            self.video_stream = _moving_picture(self.container, self.src)
            self.video_stream.thread_type = "AUTO"
            self.video_stream.thread_count = threads or _decoder_threads(self.video_stream)
            self.copy_streams = [s for s in self.container.streams if s.type in copy_types]
            self._last_pts: int | None = None  # of the last frame yielded
            self._seen = _TimestampGuess()
            self._timeline = SplicedTimeline(self.container)
            self._items = self._demux()
            self._pending: deque[Item] = deque()
            self.info = _describe(self.video_stream, self._peek_first_frame(), self.container)
        except BaseException:
            self.container.close()
            raise

    def __iter__(self) -> Iterator[Item]:
        while self._pending:
            yield self._pending.popleft()
        yield from self._items

    def seek(self, pts: int) -> None:
        """Restart at the video keyframe at or before ``pts`` (video time base): where a
        segment of the file (``vidcolor.scale``) starts decoding. Frames keep their own pts.

        Some demuxers land after it (MPEG-TS: on the first keyframe whose dts is not before
        ``pts``, or past the end; a segment lost its first frames, a contact sheet its last
        sample); until a frame comes at or before ``pts``, the seek goes back further, a
        second, then twice as far each time.
        """
        stream, back = self.video_stream, 0
        start = stream.start_time or 0
        second = max(1, round(1 / stream.time_base))
        while True:
            self._restart(pts - back)
            first = self._first_frame()
            if (first is not None and first.pts <= pts) or pts - back < start - second:
                return  # there, or sought a second before the file's start: nothing earlier
            back = max(second, 2 * back)

    def _restart(self, pts: int) -> None:
        self._items.close()
        self._pending.clear()
        self.container.seek(pts, stream=self.video_stream, backward=True)  # flushes decoders
        self._last_pts, self._seen, self._ended = None, _TimestampGuess(), False
        self._timeline = SplicedTimeline(self.container)
        self._items = self._demux()

    def _first_frame(self) -> av.VideoFrame | None:
        """The next video frame, kept for iteration with what came before it; None at the
        end."""
        for item in self._items:
            self._pending.append(item)
            if isinstance(item, av.VideoFrame):
                return item
        return None

    def close(self) -> None:
        """Release the input; safe to call twice."""
        self._items.close()
        self.container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _peek_first_frame(self) -> av.VideoFrame:
        first = self._first_frame()
        if first is None:
            raise InputError(f"{self.src}: no decodable video frames")
        return first

    def _demux(self) -> Iterator[Item]:
        video = self.video_stream
        try:
            packets = [s for s in self.copy_streams if s.type != "attachment"]
            for packet in self.container.demux([video, *packets]):
                if packet.size == 0:  # PyAV's end-of-stream markers and empty AVI chunks
                    continue
                self._timeline.place(packet)
                if packet.stream_index == video.index:
                    yield from self._decode(packet)
                else:
                    yield packet
        except av.FFmpegError as err:
            self._skip(f"input ends early, unreadable data: {reason(err)}")
        yield from self._decode(None)
        self._ended = True

    def shortfall(self) -> str | None:
        """Why the input looks cut short, or None.

        Read to its end, its video stopped well before the end its container declares (the
        stream's duration; else, its frame count, skipped corrupt frames counting as given).
        A corrupt stretch in the middle is not a shortfall: the frames after it still come.
        None too while the input was not read to its end: a run stopped early by choice says
        nothing about the file.
        """
        stream, last = self.video_stream, self._last_pts
        if not self._ended or last is None:
            return None
        declared = self.info.frames
        if stream.duration:
            rate = self.info.average_rate or 25
            end = float(((stream.start_time or 0) + stream.duration) * stream.time_base)
            reached = float(last * stream.time_base) + 1 / float(rate)
            if end - reached <= max(2 / float(rate), 0.01 * end):  # two frames or 1 % of slack
                return None
            return (f"the input ends early: its video stops at {reached:.2f} s of {end:.2f} s "
                    f"({self.frames_read} frames{f' of {declared}' if declared else ''})")
        if not declared or self.frames_read + self.skipped >= declared - max(1, declared // 100):
            return None
        return f"the input ends early: {self.frames_read} of {declared} video frames"

    def _decode(self, packet: av.Packet | None) -> Iterator[av.VideoFrame]:
        try:
            frames = self.video_stream.decode(packet)
        except av.FFmpegError as err:
            self._skip(f"skipped an undecodable video packet: {reason(err)}")
            return
        for frame in frames:
            frame.time_base = self.video_stream.time_base  # frames from a flush come without
            if frame.is_corrupt:
                self._skip(f"skipped a corrupt video frame (pts {frame.pts})")
                continue
            frame.pts = self._seen.best_effort(frame.pts, frame.dts)
            if frame.pts is None:
                frame.pts = self._next_pts(frame)
            if self._last_pts is not None and frame.pts <= self._last_pts:
                self._skip(f"skipped a video frame whose pts {frame.pts} does not increase")
                continue
            self._last_pts = frame.pts
            self.frames_read += 1
            yield frame

    def _next_pts(self, frame: av.VideoFrame) -> int:
        """One frame period after the last frame, for frames that come without timestamps."""
        if self._last_pts is None:
            return 0
        rate = self.video_stream.average_rate or self.video_stream.guessed_rate or 25
        return self._last_pts + max(1, round(1 / (rate * frame.time_base)))

    def _skip(self, message: str) -> None:
        self.skipped += 1
        if self.skipped <= _LOGGED_SKIPS:
            log.warning("%s: %s", self.src, message)
        if self.skipped == _LOGGED_SKIPS:
            log.warning("%s: further skipped frames are only counted", self.src)


class _TimestampGuess:
    """FFmpeg's ``guess_correct_pts``: trust pts unless it goes back more often than dts.

    AVI (and raw streams) give B-frames decode-order pts; the decoder's ``best_effort_timestamp``
    is not exposed by PyAV, so this is the same heuristic in Python.
    """

    def __init__(self) -> None:
        self.faulty_pts = self.faulty_dts = 0
        self.last_pts: int | None = None
        self.last_dts: int | None = None

    def best_effort(self, pts: int | None, dts: int | None) -> int | None:
        if dts is not None:
            self.faulty_dts += self.last_dts is not None and dts <= self.last_dts
            self.last_dts = dts
        if pts is not None:
            self.faulty_pts += self.last_pts is not None and pts <= self.last_pts
            self.last_pts = pts
        if pts is not None and self.faulty_pts <= self.faulty_dts:
            return pts
        return dts  # None at the end of a flush: the caller extrapolates from the last frame


def _decoder_threads(stream: av.video.stream.VideoStream) -> int:
    """0 (FFmpeg's choice) up to 1080p, :data:`_BIG_FRAME_THREADS` above."""
    ctx = stream.codec_context
    return _BIG_FRAME_THREADS if ctx.width * ctx.height > BIG_FRAME else 0


def open_video(src: str | os.PathLike[str], **options: Any) -> VideoReader:
    """Open ``src`` (a path, or a URL/device with ``format=``/``options=``); see VideoReader."""
    return VideoReader(src, **options)


def _open(src: str, format: str | None, options: dict[str, str] | None,
          hwdec: str | None = None) -> av.InputContainer:
    if "://" not in src and src != STDIN and format is None:
        if os.path.isdir(src):
            raise InputError(f"{src} is a directory")
        if not os.path.exists(src):
            raise InputError(f"{src}: no such file")
    timeout = None
    if "://" in src:  # a video on a server: resume a dropped connection, never hang on one
        options = {**_WEB_OPTIONS, **(options or {})} if src.startswith("http") else options
        timeout = NETWORK_TIMEOUT
    try:
        return av.open(src, "r", format=format, options=options, hwaccel=_hwaccel(hwdec),
                       timeout=timeout)
    except (av.FFmpegError, OSError) as err:
        if hwdec is not None and _opens(src, format, options):  # the device failed, not the file
            raise InputError(f"hardware decoding ({hwdec}) is not available here: "
                             f"{reason(err)}") from None
        name = "standard input" if src == STDIN else src
        raise InputError(f"cannot open {name}: {reason(err)}") from None


def _opens(src: str, format: str | None, options: dict[str, str] | None) -> bool:
    try:
        av.open(src, "r", format=format, options=options).close()
    except (av.FFmpegError, OSError):
        return False
    return True


def _hwaccel(hwdec: str | None) -> HWAccel | None:
    if hwdec is None:
        return None
    if hwdec not in hwdevices_available():
        raise InputError(f"hardware decoding ({hwdec}) is not in this FFmpeg build; it has: "
                         f"{', '.join(hwdevices_available()) or 'none'}")
    return HWAccel(hwdec, allow_software_fallback=True)


def _frame_count(stream: av.VideoStream, container) -> int | None:
    """The container's count; AVI's includes empty "repeat the last frame" chunks, which
    decode to nothing (the previous frame simply lasts longer), while its index does not."""
    if container.format.name == "avi" and len(stream.index_entries):
        return len(stream.index_entries)
    return stream.frames or None


def _describe(stream: av.VideoStream, first: av.VideoFrame, container) -> VideoInfo:
    luma = split_luma(first)
    side = first.side_data.get(SideDataType.DISPLAYMATRIX)
    duration = None
    if stream.duration:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / av.time_base
    return VideoInfo(
        width=first.width,
        height=first.height,
        codec=stream.codec_context.name,
        pix_fmt=first.format.name,
        time_base=stream.time_base,
        average_rate=stream.average_rate or stream.guessed_rate,
        frames=_frame_count(stream, container),
        duration=duration,
        rotation=first.rotation,
        display_matrix=struct.unpack("=9i", bytes(side)) if side is not None else None,
        sample_aspect_ratio=stream.sample_aspect_ratio or None,
        matrix=luma.matrix,
        full_range=luma.full_range,
        color_range=luma.color_range,
        color_primaries=luma.color_primaries,
        color_trc=luma.color_trc,
        colorspace=luma.colorspace,
        metadata=dict(container.metadata),
        video_metadata=dict(stream.metadata),
        field_order=stream.codec_context.field_order,  # the decoder's, once a frame is out
        chapters=tuple(container.chapters()),
        start_time=container.start_time or 0,
    )
