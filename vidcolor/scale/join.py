"""Join colorized parts into the output: their video packets copied in order, and the input's
audio and subtitle streams copied once across the whole file.

Nothing is re-encoded at the joins: each part starts with a keyframe its own encoder made
(an IDR frame for H.264, so no frame refers across a join), and parts made by one encoder with
one set of options share their codec configuration (extradata), which is checked. Packets keep
their timestamps (parts are encoded on the input's), so frame count and every frame's pts are
the one-worker run's; audio is the input's packets, byte for byte, as in that run. The output
is written to a hidden temporary file and moved into place when complete (``io.atomic``).
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, suppress
from pathlib import Path

import av

from vidcolor.io.atomic import check_destination, commit, discard, temp_path
from vidcolor.io.errors import OutputError
from vidcolor.io.passthrough import carry, fresh_tags, moved_back, output_origin, zero_start
from vidcolor.io.reader import COPY_TYPES, VideoInfo
from vidcolor.io.writer import CodecChoiceError, choose_encoder

# Part containers, best first: MP4 and MOV keep every pts and dts exactly in the input's time
# base (Matroska rounds to milliseconds, NUT does not store dts).
_PART_SUFFIXES = (".mp4", ".mov", ".mkv")


def part_suffix(encoder: str) -> str:
    """The extension of part files holding ``encoder``'s video."""
    for suffix in _PART_SUFFIXES:
        with suppress(CodecChoiceError):
            choose_encoder(Path(f"part{suffix}"), encoder)
            return suffix
    raise OutputError(f"{encoder} video cannot be cut into parts; run without --resume and "
                      "--workers")


def join_parts(src: str | os.PathLike[str], info: VideoInfo, parts: Sequence[Path],
               dst: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Mux ``parts`` (video-only files, in timeline order) with ``src``'s audio and
    subtitles into ``dst``; ``info`` describes ``src``'s video (rotation, tags)."""
    dst = check_destination(dst, src, overwrite=overwrite)
    tmp = temp_path(dst)
    try:
        with ExitStack() as stack:
            opened = [stack.enter_context(av.open(str(part))) for part in parts]
            template = _common_video(opened)
            source = stack.enter_context(av.open(str(src)))
            origin = output_origin(info.start_time)  # the parts keep the input's clock
            output = stack.enter_context(av.open(str(tmp), "w", options=zero_start(origin)))
            video = _add_video(output, template, info)
            routes = {}
            for stream in source.streams:
                if stream.type in COPY_TYPES:
                    route, _ = carry(output, stream)  # the run warned already, if at all
                    if route is not None:
                        routes[stream.index] = route
            output.metadata.update(fresh_tags(info.metadata))
            # demux() of no streams would mean every stream: an input without audio carries none
            carried = (p for p in source.demux([source.streams[i] for i in routes])
                       if p.size) if routes else iter(())
            for packet in heapq.merge(_video_packets(opened), carried, key=_seconds):
                if packet.stream.type == "video":  # the parts hold nothing else
                    packet.stream = video
                    output.mux(packet)
                else:
                    routes[packet.stream_index].write(packet)
            for route in routes.values():
                route.flush()
            output.set_chapters(moved_back(info.chapters, origin))
        return commit(tmp, dst, replace=overwrite)
    finally:
        discard(tmp)


def _common_video(parts: Sequence[av.container.InputContainer]) -> av.VideoStream:
    """The first part's video stream, once every part is found to share its configuration."""
    first = parts[0].streams.video[0]
    for part in parts[1:]:
        other = part.streams.video[0]
        if (other.codec_context.name, other.codec_context.extradata) != (
                first.codec_context.name, first.codec_context.extradata):
            raise OutputError(f"the parts' {first.codec_context.name} configurations differ, so "
                              "they cannot be joined without re-encoding; run without "
                              "--resume and --workers")
    return first


def _add_video(output: av.container.OutputContainer, template: av.VideoStream,
               info: VideoInfo) -> av.VideoStream:
    """The output's video stream as the file pipeline makes it: the encoder's parameters,
    the input's time base, rotation and tags."""
    video = output.add_stream_from_template(template)
    video.time_base = info.time_base
    if info.display_matrix:
        video.set_display_matrix(info.display_matrix)
    video.metadata.update(fresh_tags(info.video_metadata))
    return video


def _video_packets(parts: Sequence[av.container.InputContainer]) -> Iterator[av.Packet]:
    """Every part's video packets in order; a decode timestamp that would not increase across
    a join (B-frame delay at a part's start) is moved just after the previous one."""
    last = None
    for part in parts:
        for packet in part.demux(part.streams.video[0]):
            if not packet.size:
                continue
            if last is not None and packet.dts is not None and packet.dts <= last:
                packet.dts = min(last + 1, packet.pts)
            last = packet.dts
            yield packet


def _seconds(packet: av.Packet) -> float:
    stamp = packet.dts if packet.dts is not None else packet.pts
    return float((stamp or 0) * packet.time_base)
