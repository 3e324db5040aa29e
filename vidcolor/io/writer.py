"""Encode video and mux it with the carried streams into a file that appears only when done.

The container follows the destination's extension. Everything is written to a hidden sibling
and renamed into place by :meth:`VideoWriter.close`; :meth:`VideoWriter.abort` deletes it and
:meth:`VideoWriter.finalize_partial` turns what was written so far into a playable file.
Frames made without an input file (a live feed) are described by :func:`bare_info`.

Which encoder a file gets is decided here too (:func:`choose_encoder`): the one named, if the
container can hold it, else the container's natural one (libx264 wherever H.264 fits, VP9 for
WebM, GIF for .gif). Encoder options are spelled here only: :func:`encoder_options` for live
outputs builds on the same rate control as the file pipeline.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from fractions import Fraction
from functools import cache
from pathlib import Path

import av
from av.codec.context import CodecOption, Flags, OptionType

from .atomic import check_destination, commit, discard, partial_path, temp_path
from .errors import OutputError, reason
from .passthrough import (
    Carried,
    carry,
    chapters_until,
    fresh_tags,
    moved_back,
    muxer_refuses,
    output_origin,
    zero_start,
)
from .planes import DEPTHS, depth_of
from .reader import BIG_FRAME, VideoInfo

log = logging.getLogger(__name__)

# Where a container refuses H.264: the open codecs web containers are made for, best first.
_OPEN_CODECS = ("libvpx-vp9", "libsvtav1", "libaom-av1")
# Bitstreams that crop in whole chroma samples, so 4:2:0 / 4:2:2 cannot have odd sides.
_WHOLE_CHROMA = frozenset({"h264", "hevc"})
# Tops of CRF scales that FFmpeg declares unbounded (the others come from the option itself).
_CRF_TOPS = {"libx264": 51, "libx265": 51}
# Speed where an encoder's own default is impractical: libvpx-vp9 encodes 360p at ~1.5 fps.
_FILE_SPEED = {"libvpx-vp9": {"row-mt": "1", "cpu-used": "4"}}
# Encoders whose CRF only caps quality under a target bit rate, which is lifted here so that
# CRF decides (VP8 at CRF 18 on a 432x240 clip: luma 30 dB under its default 256 kbit/s, 34).
_CRF_UNDER_TARGET = frozenset({"libvpx"})
# FFmpeg's AVFMT_VARIABLE_FPS: the muxer keeps each frame's time. Without it (AVI, Ogg,
# YUV4MPEG) the stream's time base is taken as the frame rate, so frames are stamped 0, 1, 2..
_VARIABLE_FPS = 0x400
# Frames above 1080p: libx264 keeps ~25 MB per 4K frame in its look-ahead, 40 frames at its
# default preset (medium), about 1.3 GB; 10 frames (veryfast's) hold it near 0.55 GB, at a
# cost of ~0.2 dB PSNR at the same bit rate. libx265 holds ~1.9 GB at 4K, 1.6 with 10 frames
# of look-ahead (its default 20; measured with 40 4K frames at CRF 18). Only where no preset
# or option was chosen.
_BIG_FRAME_MEMORY = {"libx264": {"rc-lookahead": "10"},
                     "libx265": {"x265-params": "rc-lookahead=10"}}
# FFmpeg's AVFieldOrder (tt, bb, tb, bt) -> the field shown first, as ``setfield`` marks it.
_FIRST_FIELD = {2: "tff", 3: "bff", 4: "bff", 5: "tff"}


class CodecChoiceError(OutputError):
    """The codec, or its quality setting, cannot serve this output: a usage mistake for the
    command, found before anything is written."""


class VideoWriter:
    """One output file: ``write(item)`` for frames and packets, then ``close()``.

    ``pix_fmt`` is the frame layout to build frames in with ``planes.merge_planes``:
    ``yuv420p`` unless the input is 4:4:4 or 4:2:2 and the encoder can keep it, or its odd
    size needs 4:4:4 (see :func:`output_pix_fmt`). Other frames are converted with swscale,
    and all are converted for encoders that take none of those layouts (GIF: a palette per
    frame). ``codec`` None: the container's natural encoder (:func:`choose_encoder`). ``crf``
    is checked against the encoder's scale and ignored by encoders without one. Interlaced
    input (``info.field_order``) is encoded and tagged interlaced, same field first. Not
    thread-safe: use it from one thread.
    """

    def __init__(
        self,
        dst: str | os.PathLike[str],
        info: VideoInfo,
        copy_streams: Iterable[av.stream.Stream] = (),
        *,
        codec: str | None = "libx264",
        crf: float | None = 18,
        preset: str | None = None,
        options: dict[str, str] | None = None,
        src: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        gop: int | None = None,
    ) -> None:
        self.dst = check_destination(dst, src, overwrite=overwrite)
        self._overwrite = overwrite
        encoder = choose_encoder(self.dst, codec)
        if crf is not None and _quality_option(encoder.name) is not None:
            check_crf(encoder, crf)
        self.pix_fmt = _layout(encoder, info, self.dst.name)
        self.frames = 0
        self._durations: dict[int, int] = {}  # pts -> duration of frames inside the encoder
        self._chapters = info.chapters
        self._frame = 1 / Fraction(info.average_rate or 25)  # how far chapters may overrun
        self._end: Fraction | None = None  # seconds: where the last video packet muxed ends
        self._tmp = temp_path(self.dst)
        self._done = False
        self._origin = output_origin(info.start_time)
        self._output = _open_output(self._tmp, self.dst.name, zero_start(self._origin))
        self._ticks = _FrameTicks(info.average_rate or 25, self._output.format)
        try:
            self._feed = _EncoderFeed(encoder, info, self.pix_fmt)
            self._video = self._add_video(encoder, info, crf, preset, options or {}, gop)
            self._routes: dict[int, Carried] = {}
            for template in copy_streams:
                route, warning = carry(self._output, template)
                if warning:
                    log.warning("%s", warning)
                if route is not None:
                    self._routes[template.index] = route
            self._output.metadata.update(fresh_tags(info.metadata))
        except BaseException:
            self.abort()
            raise

    def write(self, item: av.VideoFrame | av.Packet) -> None:
        """Write a reader item: a video frame to encode or a packet of a carried stream."""
        if isinstance(item, av.VideoFrame):
            self.write_frame(item)
        else:
            self.write_packet(item)

    def write_frame(self, frame: av.VideoFrame) -> None:
        """Encode one frame; its pts (in its time_base) is kept as is."""
        if frame.format.name != self.pix_fmt:
            frame = _conform(frame, self.pix_fmt)
        self._ticks.stamp(frame)
        frame.pict_type = 0  # let the encoder choose; never copy the input's I/P/B decisions
        if frame.duration and frame.time_base == self._video.codec_context.time_base:
            self._durations[frame.pts] = frame.duration
        with self._failures():
            self._encode(self._feed(frame))
        self.frames += 1

    def write_packet(self, packet: av.Packet) -> None:
        """Copy (or transcode) a packet of an input stream given in ``copy_streams``."""
        route = self._routes.get(packet.stream_index)
        if route is not None:
            with self._failures():
                route.write(packet)

    def write_at(self, stream_index: int, data: bytes, start: float, duration: float) -> None:
        """Copy (or transcode) a packet's bytes of the input stream ``stream_index`` to
        ``start`` seconds into the output: for packets re-stamped on a timeline of their own
        (a live session's), not the input's."""
        route = self._routes.get(stream_index)
        if route is not None:
            with self._failures():
                route.write_at(data, start, duration)

    @property
    def closed(self) -> bool:
        """Closed, aborted, or given up after a failed write (whose file is gone)."""
        return self._done

    def close(self) -> Path:
        """Flush every encoder, write the trailer and move the file into place."""
        if not self.frames:
            self.abort()
            raise OutputError(f"no video frames were written to {self.dst.name}")
        return self._finish(self.dst)

    def finalize_partial(self, path: str | os.PathLike[str] | None = None) -> Path | None:
        """Make what was written so far playable at ``path`` (default ``<stem>.partial<ext>``).

        Returns None (and leaves nothing behind) when no frame was written yet.
        """
        if not self.frames:
            self.abort()
            return None
        return self._finish(Path(path) if path is not None else partial_path(self.dst))

    def abort(self) -> None:
        """Stop without keeping anything; safe to call at any time, twice included."""
        self._done = True
        with suppress(av.FFmpegError, OSError):  # a broken trailer is moot: the file goes
            self._output.close()
        discard(self._tmp)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if self._done:
            return
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _finish(self, dst: Path) -> Path:
        if self._done:
            raise OutputError(f"{self.dst.name} is already closed")
        with self._failures():
            self._encode(self._feed(None))
            self._mux_video(self._video.encode(None))
            for route in self._routes.values():
                route.flush()
            if self._chapters and self._end is not None:  # muxers write them at the end
                kept = chapters_until(self._chapters, self._end, self._frame)
                self._output.set_chapters(moved_back(kept, self._origin))
            self._output.close()
        self._done = True
        try:  # a partial (``<stem>.partial<ext>``) replaces an earlier run's
            return commit(self._tmp, dst, replace=self._overwrite or dst != self.dst)
        finally:
            discard(self._tmp)

    def _encode(self, frames: list[av.VideoFrame]) -> None:
        for frame in frames:
            self._mux_video(self._video.encode(frame))

    def _mux_video(self, packets: list[av.Packet]) -> None:
        """Mux encoded packets with their frames' durations, which encoders like libx264
        drop; without them the muxer guesses the last frame's length from the frame rate."""
        for packet in packets:
            duration = self._durations.pop(packet.pts, 0)
            if not packet.duration:
                packet.duration = duration
            if packet.pts is not None:
                end = (packet.pts + packet.duration) * packet.time_base
                self._end = end if self._end is None else max(self._end, end)
        self._output.mux(packets)

    @contextmanager
    def _failures(self) -> Iterator[None]:
        try:
            yield
        except (av.FFmpegError, OSError) as err:
            self.abort()
            raise OutputError(f"writing {self.dst.name} failed: {reason(err)}") from None

    def _add_video(self, encoder: av.Codec, info: VideoInfo, crf, preset, options, gop):
        output = self._output
        try:
            stream = output.add_stream(encoder.name, rate=info.average_rate or 25)
        except ValueError as err:
            raise OutputError(f"{reason(err)} (output {self.dst.name})") from None
        stream.width, stream.height = info.width, info.height
        stream.pix_fmt = self._feed.pix_fmt
        ctx = stream.codec_context
        ctx.time_base = stream.time_base = self._ticks.time_base or info.time_base
        if crf is not None and encoder.name in _CRF_UNDER_TARGET:
            ctx.bit_rate = info.width * info.height * 8 * int(stream.average_rate or 25)
        if gop:
            ctx.gop_size = gop
        if info.sample_aspect_ratio:
            ctx.sample_aspect_ratio = info.sample_aspect_ratio
        ctx.color_range, ctx.colorspace = info.color_range, info.colorspace
        ctx.color_primaries, ctx.color_trc = info.color_primaries, info.color_trc
        ctx.field_order = info.field_order
        if info.field_order in _FIRST_FIELD:  # code it interlaced, as libx264 needs to say so
            ctx.flags |= Flags.interlaced_dct | Flags.interlaced_me
        if info.display_matrix:
            stream.set_display_matrix(info.display_matrix)
        stream.metadata.update(fresh_tags(info.video_metadata))
        ctx.options = _quiet(encoder.name, {**_FILE_SPEED.get(encoder.name, {}),
                              **_memory_caps(encoder.name, info, preset, options),
                              **_rate_control(encoder, crf, preset), **options})
        try:
            ctx.open()  # now, so an unusable encoder fails before any file exists
        except av.FFmpegError as err:
            hint = ""
            if self.pix_fmt != "yuv444p" and (info.width % 2 or info.height % 2):
                hint = f" (odd size {info.width}x{info.height} with {self.pix_fmt}; try ffv1)"
            raise OutputError(
                f"cannot open the {encoder.name} encoder: {reason(err)}{hint}"
            ) from None
        return stream


class _FrameTicks:
    """Time stamps for muxers that have no time of their own per frame (no
    ``AVFMT_VARIABLE_FPS``): the stream's time base is one frame, and each frame is stamped
    with its nearest tick, never the same tick twice, so none is dropped."""

    def __init__(self, rate: Fraction, muxer: av.format.ContainerFormat) -> None:
        fixed = not muxer.flags & _VARIABLE_FPS
        self.time_base = 1 / Fraction(rate) if fixed else None
        self._last = -1

    def stamp(self, frame: av.VideoFrame) -> None:
        """Re-stamp ``frame`` in ticks where the muxer needs them; else leave it as is."""
        if self.time_base is None:
            return
        tick = self._last + 1  # a frame without a time goes next
        if frame.pts is not None and frame.time_base is not None:
            tick = max(tick, round(frame.pts * frame.time_base / self.time_base))
        frame.pts, frame.time_base, frame.duration = tick, self.time_base, 1
        self._last = tick


class _EncoderFeed:
    """Frames as the encoder takes them, from frames built in the writer's layout: converted
    to its pixel format (for palette encoders such as GIF, a palette made for each frame) and
    marked with the input's field order, which libx264 codes from each frame's flags and
    PyAV cannot set on a frame. Both go through an FFmpeg filter graph, built only when
    needed; ``feed(None)`` flushes it."""

    def __init__(self, encoder: av.Codec, info: VideoInfo, layout: str) -> None:
        self.pix_fmt = _encoder_pix_fmt(encoder, layout)
        palette = self.pix_fmt == "pal8"
        # swscale first: it honours each frame's colour matrix and range; a graph does not
        self._convert = None if self.pix_fmt == layout else "rgb24" if palette else self.pix_fmt
        field = None if palette else _FIRST_FIELD.get(info.field_order)
        self._graph = None
        if field or palette:
            self._graph = _filter_graph(info, self._convert or layout, field, palette)

    def __call__(self, frame: av.VideoFrame | None) -> list[av.VideoFrame]:
        if frame is not None and self._convert:
            frame = _conform(frame, self._convert)
        if self._graph is None:
            return [] if frame is None else [frame]
        self._graph.push(frame)
        frames = []
        with suppress(av.BlockingIOError, av.EOFError):
            while True:
                frames.append(self._graph.pull())
        return frames


def _memory_caps(encoder: str, info: VideoInfo, preset: str | None,
                 options: dict[str, str]) -> dict[str, str]:
    """Encoder settings that bound memory for frames above 1080p, unless the caller chose a
    preset or options of its own (see ``_BIG_FRAME_MEMORY``)."""
    if preset is not None or options or info.width * info.height <= BIG_FRAME:
        return {}
    return dict(_BIG_FRAME_MEMORY.get(encoder, {}))


def _quiet(encoder: str, options: dict[str, str]) -> dict[str, str]:
    """``options`` with x265's own log (a banner of a dozen lines on stderr, whatever FFmpeg's
    level) cut to its errors, unless the caller set its level."""
    params = options.get("x265-params", "")
    if encoder != "libx265" or "log-level" in params:
        return options
    return {**options, "x265-params": ":".join(filter(None, ("log-level=error", params)))}


def _filter_graph(info: VideoInfo, pix_fmt: str, field: str | None,
                  palette: bool) -> av.filter.Graph:
    """buffer -> [setfield] -> [split -> palettegen (one per frame) -> paletteuse] -> sink."""
    graph = av.filter.Graph()
    last = graph.add_buffer(width=info.width, height=info.height, format=pix_fmt,
                            time_base=info.time_base)
    if field:
        marked = graph.add("setfield", field)
        last.link_to(marked)
        last = marked
    if palette:
        split = graph.add("split")
        make = graph.add("palettegen", "stats_mode=single")
        use = graph.add("paletteuse", "new=1")
        last.link_to(split)
        split.link_to(make, 0, 0)
        split.link_to(use, 1, 0)
        make.link_to(use, 0, 1)
        last = use
    last.link_to(graph.add("buffersink"))
    graph.configure()
    return graph


def _layout(encoder: av.Codec, info: VideoInfo, name: str) -> str:
    """:func:`output_pix_fmt` for ``info``, saying so when an odd size costs a layout."""
    layout = output_pix_fmt(encoder, info.pix_fmt, (info.width, info.height))
    usual = output_pix_fmt(encoder, info.pix_fmt)
    if layout != usual:
        log.warning("%s: %dx%d has an odd side, which %s cannot hold in %s; writing %s "
                    "(same luma, finer chroma; some players cannot play it)",
                    name, info.width, info.height, encoder.name, usual, layout)
    return layout


def output_pix_fmt(encoder: av.Codec, input_pix_fmt: str,
                   size: tuple[int, int] | None = None) -> str:
    """The layout (one of ``planes.OUTPUT_FORMATS``, or one as deep as the input's luma) to
    build frames in for ``encoder``.

    yuv420p, or the input's 4:4:4 / 4:2:2 layout when ``encoder`` can keep it; for a deeper
    input (a 10-bit scan) that layout at the input's depth where the encoder takes it, else
    the nearest deeper, else the deepest it takes (as the ``ffmpeg`` command chooses: 10-bit
    H.264 from a 10-bit source). With a ``size`` (width, height) whose odd side that layout
    cannot hold in an H.264/HEVC bitstream, yuv444p where the encoder takes it: the luma stays
    the input's, only the chroma is finer. yuv444p too for encoders that take none of these
    layouts (GIF, PNG); the writer converts for them.
    """
    supported = {f.name for f in encoder.video_formats or ()} or {"yuv420p"}
    usable = [f for f in (_input_layout(input_pix_fmt), "yuv420p") if f in supported]
    if not usable:
        return "yuv444p"
    layout = usable[0]
    if (size is not None and not _fits(layout, *size)
            and encoder.canonical_name in _WHOLE_CHROMA and "yuv444p" in supported):
        layout = "yuv444p"
    bits = depth_of(input_pix_fmt)  # planes.split_luma keeps that many bits of luma
    deeper = sorted(DEPTHS, key=lambda depth: (depth < bits, abs(depth - bits)))
    return next((f"{layout}{depth}le" for depth in deeper
                 if bits > 8 and f"{layout}{depth}le" in supported), layout)


def _encoder_pix_fmt(encoder: av.Codec, layout: str) -> str:
    """What ``encoder`` is given for frames built in ``layout``: the layout itself where it
    takes it, else a palette (pal8, for GIF) or its first format."""
    supported = [f.name for f in encoder.video_formats or ()]
    if not supported or layout in supported:
        return layout
    return "pal8" if "pal8" in supported else supported[0]


def _input_layout(input_pix_fmt: str) -> str:
    """yuv444p / yuv422p for inputs with that chroma, else yuv420p."""
    src = av.VideoFormat(input_pix_fmt, 64, 64)
    if src.is_rgb or src.has_palette or len(src.components) < 3:
        return "yuv420p"
    return {(64, 64): "yuv444p", (32, 64): "yuv422p"}.get(
        (src.chroma_width(), src.chroma_height()), "yuv420p"
    )


def _fits(layout: str, width: int, height: int) -> bool:
    """Whether whole chroma samples of ``layout`` tile a ``width`` x ``height`` frame."""
    sub = av.VideoFormat(layout, 64, 64)
    return width % (64 // sub.chroma_width()) == 0 and height % (64 // sub.chroma_height()) == 0


def choose_encoder(dst: str | os.PathLike[str], codec: str | None = None) -> av.Codec:
    """The video encoder for ``dst``, whose extension names the container; opens no file.

    ``codec`` when the container can hold it, else :class:`CodecChoiceError` with the fix.
    None: the container's natural one, libx264 wherever H.264 goes (mp4, mkv, mov, avi, ts,
    ...), else VP9 (AV1 where VP9 is missing) for WebM, else the container's own default
    (GIF for .gif).
    """
    name = Path(dst).name
    probe = _open_output(Path(dst), name)
    try:
        if codec is None:
            encoder = _natural_encoder(probe)
            if encoder is None:
                raise OutputError(f"{name}: no video encoder in this FFmpeg build can write "
                                  f"{probe.format.name} files")
            return encoder
        encoder = video_encoder(codec)
        if not _holds(probe, encoder):
            natural = _natural_encoder(probe)
            fix = f"leave the codec out to get {natural.name}, or " if natural else ""
            raise CodecChoiceError(f"{name}: {probe.format.name} files cannot hold "
                                   f"{encoder.name} video; {fix}choose another container")
        return encoder
    finally:
        probe.close()


def _natural_encoder(container: av.container.OutputContainer) -> av.Codec | None:
    for name in ("libx264", *_OPEN_CODECS, container.default_video_codec):
        with suppress(OutputError):
            encoder = video_encoder(name)
            if _holds(container, encoder):
                return encoder
    return None


def _holds(container: av.container.OutputContainer, encoder: av.Codec) -> bool:
    """Whether ``container`` takes ``encoder``'s codec: not where its muxer is known to refuse
    it (``passthrough.muxer_refuses``), else by a throwaway stream on the probe."""
    if muxer_refuses(container, encoder.name):
        return False
    try:
        container.add_stream(encoder.name)
    except ValueError:
        return False
    return True


def _open_output(path: Path, name: str,
                 options: dict[str, str] | None = None) -> av.container.OutputContainer:
    """An output container for ``path`` (its extension names the format) with muxer
    ``options``; the file itself is created only when the first packet is written."""
    try:
        return av.open(str(path), "w", options=options)
    except (ValueError, av.FFmpegError) as err:
        raise OutputError(f"cannot write {name}: {reason(err)}") from None


def check_crf(encoder: av.Codec, crf: float) -> None:
    """Refuse a CRF outside ``encoder``'s scale (x264/x265 and NVENC 0-51, VP9 and AV1 0-63),
    a fraction where it takes whole numbers, or any CRF for an encoder without such a scale
    (ffv1, gif, ...): :class:`CodecChoiceError`."""
    option = _quality_option(encoder.name)
    if option is None:
        raise CodecChoiceError(f"{encoder.name} has no CRF scale (it is lossless or sets its "
                               "quality otherwise); leave the CRF out")
    low, top = max(option.min, 0), _CRF_TOPS.get(encoder.name, option.max)
    if not low <= crf <= top:
        raise CodecChoiceError(f"CRF {crf:g} is outside {encoder.name}'s scale, "
                               f"{low:g} to {top:g}")
    if option.type == OptionType.INT and crf != int(crf):
        raise CodecChoiceError(f"{encoder.name} takes a whole-number CRF, not {crf:g}")


def video_encoder(name: str) -> av.Codec:
    """The FFmpeg video encoder called ``name``; :class:`CodecChoiceError` if there is none."""
    try:
        encoder = av.Codec(name, "w")
    except (ValueError, av.FFmpegError):
        raise CodecChoiceError(f"unknown video codec {name!r}") from None
    if encoder.type != "video":
        raise CodecChoiceError(f"{name!r} is not a video codec")
    return encoder


def bare_info(width: int, height: int, rate: Fraction, time_base: Fraction) -> VideoInfo:
    """The description of frames made in memory (a live feed): size and timing; colour
    unspecified (FFmpeg's 0 and 2), no tags, nothing to carry over from an input file."""
    return VideoInfo(
        width=width, height=height, codec="rawvideo", pix_fmt="yuv420p", time_base=time_base,
        average_rate=rate, frames=None, duration=None, rotation=0, display_matrix=None,
        sample_aspect_ratio=None, matrix="bt709", full_range=False, color_range=0,
        color_primaries=2, color_trc=2, colorspace=2, metadata={}, video_metadata={},
        field_order=0,
    )


# Live defaults by encoder family: (preset, CRF) for files, then for restreams.
_LIVE_DEFAULTS = {"x26x": (("veryfast", 20), ("ultrafast", 23)), "nvenc": (("p4", 23), ("p1", 23))}
# What low delay adds: no lookahead, no B-frames, no frame held back.
_LOW_DELAY = {
    "x26x": {"tune": "zerolatency"},
    "nvenc": {"tune": "ull", "zerolatency": "1", "delay": "0", "rc-lookahead": "0"},
}


def encoder_options(
    codec: str, low_delay: bool, crf: float | None, preset: str | None, bitrate: int | None = None
) -> dict[str, str]:
    """Private options of a live output's encoder: x264/x265 ``ultrafast`` + ``zerolatency``
    and NVENC ``p1`` + ``ull`` with ``low_delay`` (restreams), a quality preset otherwise
    (files); CRF 20 for files, 23 for restreams unless given. ``bitrate`` replaces the CRF."""
    family = _family(codec)
    if family is not None:
        default_preset, default_crf = _LIVE_DEFAULTS[family][low_delay]
        preset = preset or default_preset
        crf = default_crf if crf is None else crf
    options = _rate_control(video_encoder(codec), None if bitrate else crf, preset)
    if bitrate:
        options["b"] = str(bitrate)
    if low_delay and family is not None:
        options.update(_LOW_DELAY[family])
    return options


def _family(codec: str) -> str | None:
    if codec.endswith("_nvenc"):
        return "nvenc"
    return "x26x" if codec in ("libx264", "libx265") else None


def _rate_control(encoder: av.Codec, crf: float | None, preset: str | None) -> dict[str, str]:
    """The encoder's own spelling of constant quality and speed preset; a preset for an
    encoder without presets is refused (:func:`check_preset`), not ignored."""
    wanted: dict[str, str] = {}
    quality = _quality_option(encoder.name)
    if crf is not None and quality is not None:
        wanted[quality.name] = f"{crf:g}"
        if quality.name == "cq":  # NVENC: constant quality within variable bit rate
            wanted["rc"] = "vbr"
    if preset is not None:
        check_preset(encoder)
        wanted["preset"] = str(preset)
    return wanted


def check_preset(encoder: av.Codec) -> None:
    """Refuse a speed preset for an encoder without presets (VP9, AV1 in libaom, GIF, ...)
    rather than ignore it: :class:`CodecChoiceError`."""
    if "preset" not in _private_options(encoder.name):
        raise CodecChoiceError(f"{encoder.name} has no speed presets; leave --preset out or "
                               f"choose an encoder with them (libx264, libx265, NVENC)")


def _quality_option(encoder: str) -> CodecOption | None:
    """The encoder's constant-quality option: ``crf``, or NVENC's ``cq``; None if neither."""
    options = _private_options(encoder)
    return options.get("crf") or options.get("cq")


@cache
def _private_options(encoder: str) -> dict[str, CodecOption]:
    context = av.CodecContext.create(encoder, "w")
    return {option.name: option for option in context.supported_options.private}


def _conform(frame: av.VideoFrame, pix_fmt: str) -> av.VideoFrame:
    out = frame.reformat(format=pix_fmt)
    out.pts, out.time_base, out.duration = frame.pts, frame.time_base, frame.duration
    return out
