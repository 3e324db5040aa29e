"""Restreams: coloured frames sent on to rtsp/rtmp/udp/srt/tcp URLs with low delay.

A restream that fails (server gone, network down) is reopened with backoff while the other
outputs carry on. ``srt://`` goes through an ``ffmpeg`` relay where PyAV lacks it. RTSP
announces each stream's configuration before the first packet (its SDP); AAC that came as
ADTS (MPEG-TS feeds) has none to announce, so only there the audio is re-encoded as AAC.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from fractions import Fraction

import av

from vidcolor.io.errors import OutputError
from vidcolor.io.passthrough import Carried, lacks_global_header, transcode_audio
from vidcolor.redact import redact

from .backoff import Backoff
from .container_sink import ContainerSink
from .relay import Relay, relay_command
from .source import scheme_of

log = logging.getLogger("vidcolor.live")

#: Container format for each restream scheme.
STREAM_FORMATS = {"rtsp": "rtsp", "rtsps": "rtsp", "rtmp": "flv", "rtmps": "flv",
                  "udp": "mpegts", "srt": "mpegts", "tcp": "mpegts"}


def is_stream_target(target: str) -> bool:
    return scheme_of(target) in STREAM_FORMATS


class RestreamSink(ContainerSink):
    """One restream URL: a keyframe every second and no B-frames, so players join fast and
    nothing waits for a later frame; reconnects with backoff (capped at ``retry_cap`` s)."""

    gop_seconds = 1
    max_b_frames = 0

    def __init__(self, target: str, *, codec: str, options: dict[str, str], timeout: float,
                 retry_cap: float) -> None:
        super().__init__(target, codec=codec, options=options)
        self.scheme = scheme_of(target)
        self.timeout = timeout
        self.backoff = Backoff(cap=retry_cap, give_up_after=None)
        self._relay: Relay | None = None
        self._retry_at = 0.0

    def start(self, frame: av.VideoFrame, rate: Fraction, audio) -> None:
        if audio is not None and self._reencodes(audio):
            log.warning("%s: the %s audio has no global header (ADTS, as in MPEG-TS), which "
                        "RTSP needs; re-encoding it as AAC", self.name, audio.codec_context.name)
        try:
            super().start(frame, rate, audio)
        except (av.FFmpegError, OSError) as exc:
            if isinstance(exc, av.error.ProtocolNotFoundError):
                raise OutputError(f"cannot write {self.name}: {redact(exc)}") from None
            self._failed(exc)

    def _reencodes(self, template: av.AudioStream) -> bool:
        return STREAM_FORMATS[self.scheme] == "rtsp" and lacks_global_header(template)

    def _output(self) -> av.container.OutputContainer:
        fmt, path = STREAM_FORMATS[self.scheme], self.target
        options = {"flush_packets": "1"}
        if fmt == "rtsp":
            options["rtsp_transport"] = "tcp"
        if self.scheme == "udp" and "pkt_size" not in path:
            path += ("&" if "?" in path else "?") + "pkt_size=1316"  # one MPEG-TS UDP payload
        exe = relay_command(self.scheme)
        if exe is None:
            return av.open(path, "w", format=fmt, options=options, timeout=self.timeout)
        self._relay = Relay.writer(exe, path, self.timeout)
        return self._relay.container

    def _audio_route(self, template: av.AudioStream) -> Carried | None:
        if self._reencodes(template):
            return transcode_audio(self._out, template)
        return super()._audio_route(template)

    def write(self, frame: av.VideoFrame, t: float) -> None:
        if self._out is None and not self._reopen():
            return
        super().write(frame, t)

    def _run(self, write: Callable[..., None], *args) -> None:
        try:
            write(*args)
        except (av.FFmpegError, OSError) as exc:
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self._close_quietly()
        delay = self.backoff.next_delay()
        self._retry_at = time.monotonic() + delay
        log.warning("restream to %s failed (%s); retrying in %.1f s", self.name, redact(exc), delay)

    def _reopen(self) -> bool:
        if time.monotonic() < self._retry_at:
            return False
        try:
            self._open()
        except (av.FFmpegError, OSError, ValueError) as exc:
            self._failed(exc)
            return False
        log.warning("restream to %s resumed", self.name)
        self.backoff.reset()
        return True

    def _end(self) -> None:
        """A receiver that is gone cannot take a trailer; nothing is left to keep."""
        self._close_quietly()

    def _close_quietly(self) -> None:
        super()._close_quietly()
        if self._relay is not None:
            self._relay.close()
            self._relay = None
