"""What encoding live outputs share: frames placed on the session timeline, and the base of
the outputs that open their own container (segments, restreams) and encode into it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from fractions import Fraction

import av

from vidcolor.io.passthrough import TIME_BASE, Carried, carry
from vidcolor.redact import redact

from .sink import Sink
from .source import AudioPacket, audio_signature

log = logging.getLogger("vidcolor.live")


def keyframe_interval(rate: Fraction, seconds: int) -> int:
    """Frames between keyframes: what a player joining (or a segment cut) waits for at most."""
    return seconds * max(1, round(float(rate)))


class FrameClock:
    """Frames onto one output: at the size it was opened with (a reconnect may bring another)
    and with pts in :data:`TIME_BASE` that always increase (encoders refuse repeats)."""

    def __init__(self, width: int, height: int) -> None:
        self.size = (width, height)
        self._last = -1

    def __call__(self, frame: av.VideoFrame, t: float) -> av.VideoFrame:
        """``frame``, shown ``t`` seconds into the session, ready to encode."""
        if (frame.width, frame.height) != self.size:
            frame = frame.reformat(*self.size)
        self._last = max(round(t / TIME_BASE), self._last + 1)
        frame.pts, frame.time_base = self._last, TIME_BASE
        return frame


class ContainerSink(Sink):
    """Encodes into a container that ``_output`` opens, with the source's audio carried beside
    (stream copy, or a transcode where the format cannot hold it). A subclass picks the
    container, the keyframe spacing and what a failure does (``_run``, ``_end``)."""

    gop_seconds = 2
    max_b_frames: int | None = None  # None: the encoder's choice

    def __init__(self, target: str, *, codec: str, options: dict[str, str]) -> None:
        self.target, self.name = target, redact(target)
        self.codec, self.options = codec, options
        self._out: av.container.OutputContainer | None = None
        self._audio: Carried | None = None
        self._template: av.AudioStream | None = None
        self._signature: tuple | None = None

    def _output(self) -> av.container.OutputContainer:
        raise NotImplementedError

    def start(self, frame: av.VideoFrame, rate: Fraction, audio) -> None:
        self._size, self._rate, self._template = (frame.width, frame.height), rate, audio
        self._signature = audio_signature(audio) if audio is not None else None
        self._open()

    def _open(self) -> None:
        try:
            self._open_container(with_audio=self._template is not None)
        except (av.FFmpegError, OSError, ValueError) as exc:
            if self._template is None:
                raise
            self._close_quietly()
            log.warning("%s: cannot copy the %s audio (%s); writing video only",
                        self.name, self._signature[0], redact(exc))
            self._template = None
            self._open_container(with_audio=False)

    def _open_container(self, with_audio: bool) -> None:
        self._out = self._output()
        video = self._out.add_stream(self.codec, rate=self._rate)
        video.width, video.height = self._size
        video.pix_fmt = "yuv420p"
        ctx = video.codec_context
        ctx.time_base = TIME_BASE
        ctx.gop_size = keyframe_interval(self._rate, self.gop_seconds)
        if self.max_b_frames is not None:
            ctx.max_b_frames = self.max_b_frames
        ctx.options = dict(self.options)
        self._video = video
        self._clock = FrameClock(*self._size)
        self._audio = self._audio_route(self._template) if with_audio else None
        self._out.start_encoding()  # now, so a format that refuses the audio says so here

    def _audio_route(self, template: av.AudioStream) -> Carried | None:
        route, warning = carry(self._out, template)
        if warning:
            log.warning("%s: %s", self.name, warning)
        return route

    def write(self, frame: av.VideoFrame, t: float) -> None:
        if self._out is not None:
            self._run(self._encode, self._clock(frame, t))

    def write_audio(self, packet: AudioPacket) -> None:
        if self._out is None or self._audio is None or packet.signature != self._signature:
            return
        self._run(self._audio.write_at, bytes(packet.packet), packet.time, packet.duration)

    def close(self) -> None:
        if self._out is None:
            return
        self._run(self._flush)
        if self._out is not None:
            self._end()

    def _encode(self, frame: av.VideoFrame | None) -> None:
        self._out.mux(self._video.encode(frame))

    def _flush(self) -> None:
        self._encode(None)
        if self._audio is not None:
            self._audio.flush()

    def _run(self, write: Callable[..., None], *args) -> None:
        """Where a failed write goes: up, ending the run (a restream retries instead)."""
        write(*args)

    def _end(self) -> None:
        """Write the trailer; a failure here is the run's too."""
        out, self._out = self._out, None
        out.close()

    def _close_quietly(self) -> None:
        if self._out is not None:
            with contextlib.suppress(av.FFmpegError, OSError):
                self._out.close()
        self._out = None
