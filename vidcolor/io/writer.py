"""Encode video and mux it with the carried streams into a file that appears only when done.

The container follows the destination's extension. Everything is written to a hidden sibling
and renamed into place by :meth:`VideoWriter.close`; :meth:`VideoWriter.abort` deletes it and
:meth:`VideoWriter.finalize_partial` turns what was written so far into a playable file.
Frames made without an input file (a live feed) are described by :func:`bare_info`.

Encoder options are spelled here only: :func:`encoder_options` for live outputs builds on the
same rate control as the file pipeline.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from fractions import Fraction
from pathlib import Path

import av

from .atomic import check_destination, commit, discard, partial_path, temp_path
from .errors import OutputError, reason
from .passthrough import Carried, carry, fresh_tags
from .planes import OUTPUT_FORMATS
from .reader import VideoInfo

log = logging.getLogger(__name__)


class VideoWriter:
    """One output file: ``write(item)`` for frames and packets, then ``close()``.

    ``pix_fmt`` is the frame layout the encoder takes (``yuv420p`` unless the input is 4:4:4
    or 4:2:2 and the encoder can keep it); build frames for it with ``planes.merge_planes``.
    Other frames are converted with swscale. Not thread-safe: use it from one thread.
    """

    def __init__(
        self,
        dst: str | os.PathLike[str],
        info: VideoInfo,
        copy_streams: Iterable[av.stream.Stream] = (),
        *,
        codec: str = "libx264",
        crf: float | None = 18,
        preset: str | None = None,
        options: dict[str, str] | None = None,
        src: str | os.PathLike[str] | None = None,
        overwrite: bool = False,
        gop: int | None = None,
    ) -> None:
        self.dst = check_destination(dst, src, overwrite=overwrite)
        self._overwrite = overwrite
        encoder = video_encoder(codec)
        self.pix_fmt = output_pix_fmt(encoder, info.pix_fmt)
        self.frames = 0
        self._durations: dict[int, int] = {}  # pts -> duration of frames inside the encoder
        self._tmp = temp_path(self.dst)
        self._done = False
        try:
            self._output = av.open(str(self._tmp), "w")
        except (ValueError, av.FFmpegError) as err:
            raise OutputError(f"cannot write {self.dst.name}: {reason(err)}") from None
        try:
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
        frame.pict_type = 0  # let the encoder choose; never copy the input's I/P/B decisions
        if frame.duration and frame.time_base == self._video.codec_context.time_base:
            self._durations[frame.pts] = frame.duration
        with self._failures():
            self._mux_video(self._video.encode(frame))
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
            self._mux_video(self._video.encode(None))
            for route in self._routes.values():
                route.flush()
            self._output.close()
        self._done = True
        try:  # a partial (``<stem>.partial<ext>``) replaces an earlier run's
            return commit(self._tmp, dst, replace=self._overwrite or dst != self.dst)
        finally:
            discard(self._tmp)

    def _mux_video(self, packets: list[av.Packet]) -> None:
        """Mux encoded packets with their frames' durations, which encoders like libx264
        drop; without them the muxer guesses the last frame's length from the frame rate."""
        for packet in packets:
            duration = self._durations.pop(packet.pts, 0)
            if not packet.duration:
                packet.duration = duration
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
        stream.width, stream.height, stream.pix_fmt = info.width, info.height, self.pix_fmt
        ctx = stream.codec_context
        ctx.time_base = stream.time_base = info.time_base
        if gop:
            ctx.gop_size = gop
        if info.sample_aspect_ratio:
            ctx.sample_aspect_ratio = info.sample_aspect_ratio
        ctx.color_range, ctx.colorspace = info.color_range, info.colorspace
        ctx.color_primaries, ctx.color_trc = info.color_primaries, info.color_trc
        if info.display_matrix:
            stream.set_display_matrix(info.display_matrix)
        stream.metadata.update(fresh_tags(info.video_metadata))
        ctx.options = {**_rate_control(ctx, crf, preset), **options}
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


def output_pix_fmt(encoder: av.Codec, input_pix_fmt: str) -> str:
    """yuv420p, or the input's 4:4:4 / 4:2:2 layout when ``encoder`` can keep it."""
    supported = {f.name for f in encoder.video_formats or ()} or {"yuv420p"}
    src = av.VideoFormat(input_pix_fmt, 64, 64)
    keep = "yuv420p"
    if not (src.is_rgb or src.has_palette) and len(src.components) >= 3:
        keep = {(64, 64): "yuv444p", (32, 64): "yuv422p"}.get(
            (src.chroma_width(), src.chroma_height()), "yuv420p"
        )
    for pix_fmt in (keep, "yuv420p"):
        if pix_fmt in supported:
            return pix_fmt
    raise OutputError(f"{encoder.name} cannot encode any of {', '.join(OUTPUT_FORMATS)}")


def video_encoder(name: str) -> av.Codec:
    """The FFmpeg video encoder called ``name``; :class:`OutputError` if there is none."""
    try:
        encoder = av.Codec(name, "w")
    except (ValueError, av.FFmpegError):
        raise OutputError(f"unknown video codec {name!r}") from None
    if encoder.type != "video":
        raise OutputError(f"{name!r} is not a video codec")
    return encoder


def bare_info(width: int, height: int, rate: Fraction, time_base: Fraction) -> VideoInfo:
    """The description of frames made in memory (a live feed): size and timing; colour
    unspecified (FFmpeg's 0 and 2), no tags, nothing to carry over from an input file."""
    return VideoInfo(
        width=width, height=height, codec="rawvideo", pix_fmt="yuv420p", time_base=time_base,
        average_rate=rate, frames=None, duration=None, rotation=0, display_matrix=None,
        sample_aspect_ratio=None, matrix="bt709", full_range=False, color_range=0,
        color_primaries=2, color_trc=2, colorspace=2, metadata={}, video_metadata={},
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
    ctx = av.CodecContext.create(video_encoder(codec), "w")
    options = _rate_control(ctx, None if bitrate else crf, preset)
    if bitrate:
        options["b"] = str(bitrate)
    if low_delay and family is not None:
        options.update(_LOW_DELAY[family])
    return options


def _family(codec: str) -> str | None:
    if codec.endswith("_nvenc"):
        return "nvenc"
    return "x26x" if codec in ("libx264", "libx265") else None


def _rate_control(ctx: av.CodecContext, crf: float | None, preset: str | None) -> dict[str, str]:
    """The encoder's own spelling of constant quality and speed preset."""
    names = {option.name for option in ctx.supported_options.private}
    wanted: dict[str, str] = {}
    if crf is not None and "crf" in names:
        wanted["crf"] = f"{crf:g}"
    elif crf is not None and "cq" in names:  # NVENC
        wanted.update(rc="vbr", cq=f"{crf:g}")
    if preset is not None and "preset" in names:
        wanted["preset"] = str(preset)
    return wanted


def _conform(frame: av.VideoFrame, pix_fmt: str) -> av.VideoFrame:
    out = frame.reformat(format=pix_fmt)
    out.pts, out.time_base, out.duration = frame.pts, frame.time_base, frame.duration
    return out
