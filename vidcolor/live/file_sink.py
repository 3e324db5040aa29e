"""A live recording into one file, through the file pipeline's writer: it appears complete,
renamed into place on close, with the source's audio copied beside the video."""

from __future__ import annotations

import logging
from fractions import Fraction

import av

from vidcolor.io.atomic import check_destination
from vidcolor.io.passthrough import TIME_BASE
from vidcolor.io.writer import VideoWriter, bare_info
from vidcolor.redact import redact

from .container_sink import FrameClock, keyframe_interval
from .sink import Sink
from .source import AudioPacket, audio_signature

log = logging.getLogger("vidcolor.live")


class FileSink(Sink):
    """One file (a keyframe every two seconds, for seeking). The destination is checked when
    built, before the source is opened; the writer is made from the first frame's size."""

    def __init__(self, target: str, *, codec: str, options: dict[str, str],
                 overwrite: bool) -> None:
        self.name = redact(target)
        self.dst = check_destination(target, overwrite=overwrite)
        self.codec, self.options, self.overwrite = codec, options, overwrite
        self._writer: VideoWriter | None = None
        self._audio: tuple[int, tuple] | None = None  # the carried stream's index, signature

    def start(self, frame: av.VideoFrame, rate: Fraction, audio) -> None:
        info = bare_info(frame.width, frame.height, rate, TIME_BASE)
        self._writer = VideoWriter(
            self.dst, info, [] if audio is None else [audio], codec=self.codec, crf=None,
            options=self.options, overwrite=self.overwrite, gop=keyframe_interval(rate, 2))
        self._clock = FrameClock(frame.width, frame.height)
        self._audio = None if audio is None else (audio.index, audio_signature(audio))

    def write(self, frame: av.VideoFrame, t: float) -> None:
        self._writer.write_frame(self._clock(frame, t))

    def write_audio(self, packet: AudioPacket) -> None:
        if self._audio is not None and packet.signature == self._audio[1]:
            self._writer.write_at(self._audio[0], bytes(packet.packet), packet.time,
                                  packet.duration)

    def close(self) -> None:
        writer = self._writer
        if writer is None or writer.closed:  # never started, or a failed write removed it
            return
        if writer.frames:
            log.info("wrote %d frames to %s", writer.frames, writer.close())
        else:
            writer.abort()
            log.warning("no frames reached %s; nothing written", self.dst)
