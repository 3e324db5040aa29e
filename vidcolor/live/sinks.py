"""Where coloured frames go: files and restreams (encoded), plus the interface all sinks share.

Each sink encodes on its own, because a file wants quality and a restream wants no delay. A
restream that fails (server gone, network down) is reopened with backoff while the other sinks
carry on; a file that fails stops the run.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from fractions import Fraction
from pathlib import Path

import av

from vidcolor.io.atomic import check_destination, commit, discard, temp_path
from vidcolor.io.errors import OutputError

from .backoff import Backoff
from .redact import redact
from .reencode import AacReencoder, lacks_global_header
from .relay import Relay, relay_command
from .source import AudioPacket, audio_signature, scheme_of

log = logging.getLogger("vidcolor.live")

TIME_BASE = Fraction(1, 90000)
#: Container format for each restream scheme.
STREAM_FORMATS = {"rtsp": "rtsp", "rtsps": "rtsp", "rtmp": "flv", "rtmps": "flv",
                  "udp": "mpegts", "srt": "mpegts", "tcp": "mpegts"}


class Sink:
    """A consumer of coloured frames. ``start`` is called once with the first frame (and the
    source's audio stream to copy, if any); ``stop_requested`` lets a sink end the run."""

    name = "sink"
    stop_requested = False

    def start(self, frame: av.VideoFrame, rate: Fraction, audio) -> None:
        """Prepare for frames shaped like ``frame``; ``audio`` is an input stream or None."""

    def write(self, frame: av.VideoFrame, t: float) -> None:
        raise NotImplementedError

    def write_audio(self, packet: AudioPacket) -> None:
        """Audio packets (stream copy); sinks without sound ignore them."""

    def close(self) -> None:
        """Finish: flush encoders, write trailers, stop servers."""


def is_stream_target(target: str) -> bool:
    return scheme_of(target) in STREAM_FORMATS


def encoder_options(codec: str, low_delay: bool, crf: float | None,
                    preset: str | None) -> dict[str, str]:
    """Private encoder options: x264/x265 ``ultrafast``+``zerolatency`` and NVENC ``p1``+``ull``
    for restreams (no lookahead, no B-frames), a quality preset for files."""
    if codec in ("libx264", "libx265"):
        opts = {"preset": preset or ("ultrafast" if low_delay else "veryfast"),
                "crf": f"{crf if crf is not None else (23 if low_delay else 20):g}"}
        if low_delay:
            opts["tune"] = "zerolatency"
        return opts
    if codec.endswith("_nvenc"):
        opts = {"preset": preset or ("p1" if low_delay else "p4"),
                "cq": f"{crf if crf is not None else 23:g}"}
        if low_delay:
            opts.update(tune="ull", zerolatency="1", delay="0", **{"rc-lookahead": "0"})
        return opts
    return {} if preset is None else {"preset": preset}


class EncoderSink(Sink):
    """Encode and mux to a file (written beside and renamed into place on close, or cut into
    ``segment_seconds`` pieces) or to a restream URL (rtsp/rtmp/udp/srt/tcp; srt through an
    ``ffmpeg`` relay when PyAV lacks it)."""

    def __init__(self, target: str, *, codec: str = "libx264", crf: float | None = None,
                 preset: str | None = None, bitrate: int | None = None,
                 segment_seconds: float | None = None, overwrite: bool = False,
                 timeout: float = 5.0, retry_cap: float = 10.0) -> None:
        self.target, self.name = target, redact(target)
        self.stream = is_stream_target(target)
        self.codec, self.bitrate, self.segment_seconds = codec, bitrate, segment_seconds
        self.options = encoder_options(codec, self.stream, crf, preset)
        self.timeout = timeout
        self.frames = 0
        self.backoff = Backoff(cap=retry_cap, give_up_after=None)
        self._dst: Path | None = None
        if not self.stream:
            if segment_seconds:
                self._dst = Path(target).expanduser().resolve()
                if not self._dst.parent.is_dir():
                    raise OutputError(f"output folder {self._dst.parent} does not exist")
                self._check_segments(overwrite)
            else:
                self._dst = check_destination(target, overwrite=overwrite)
        self._out: av.container.OutputContainer | None = None
        self._relay: Relay | None = None
        self._tmp: Path | None = None
        self._video = self._audio = None
        self._reencoder: AacReencoder | None = None
        self._audio_sig: tuple | None = None
        self._template = None
        self._last = {"video": -1, "audio": -1}
        self._retry_at = 0.0

    # -- opening ----------------------------------------------------------------------------
    def start(self, frame: av.VideoFrame, rate: Fraction, audio) -> None:
        self._width, self._height, self._rate = frame.width, frame.height, rate
        self._template = audio
        self._audio_sig = audio_signature(audio) if audio is not None else None
        try:
            self._open()
        except (av.FFmpegError, OSError) as exc:
            if not self.stream or isinstance(exc, av.error.ProtocolNotFoundError):
                raise OutputError(f"cannot write {self.name}: {redact(exc)}") from None
            self._failed(exc)

    def _open(self) -> None:
        if self._template is not None and self._needs_reencode() and self._reencoder is None:
            log.warning("%s: the %s audio has no global header (ADTS, as in MPEG-TS), which "
                        "RTSP needs; re-encoding it as AAC", self.name, self._audio_sig[0])
        try:
            self._open_container(with_audio=self._template is not None)
        except (av.FFmpegError, OSError, ValueError) as exc:
            if self._template is None:
                raise
            self._close_quietly()
            log.warning("%s: cannot copy the %s audio (%s); writing video only",
                        self.name, self._audio_sig[0], redact(exc))
            self._template = None
            self._open_container(with_audio=False)

    def _needs_reencode(self) -> bool:
        """RTSP announces codec configuration up front (SDP); stream copy cannot invent it."""
        rtsp = self.stream and STREAM_FORMATS[scheme_of(self.target)] == "rtsp"
        return rtsp and lacks_global_header(self._template)

    def _open_container(self, with_audio: bool) -> None:
        fmt, opts, path = None, {}, self.target
        if self.stream:
            fmt = STREAM_FORMATS[scheme_of(self.target)]
            opts = {"flush_packets": "1"}
            if fmt == "rtsp":
                opts["rtsp_transport"] = "tcp"
            if scheme_of(self.target) == "udp" and "pkt_size" not in path:
                path += ("&" if "?" in path else "?") + "pkt_size=1316"  # one MPEG-TS UDP payload
        elif self.segment_seconds:
            fmt, path = "segment", str(self._segment_pattern())
            opts = {"segment_time": f"{self.segment_seconds:g}", "reset_timestamps": "1",
                    "segment_format": self._dst.suffix.lstrip(".") or "mp4"}
        else:
            self._tmp = temp_path(self._dst)
            path = str(self._tmp)
        exe = relay_command(scheme_of(self.target)) if self.stream else None
        if exe is not None:
            self._relay = Relay.writer(exe, path, self.timeout)
            self._out = self._relay.container
        else:
            self._out = av.open(path, "w", format=fmt, options=opts,
                                timeout=self.timeout if self.stream else None)
        video = self._out.add_stream(self.codec, rate=self._rate)
        video.width, video.height, video.pix_fmt = self._width, self._height, "yuv420p"
        video.codec_context.time_base = TIME_BASE
        fps = max(1, round(float(self._rate)))
        video.codec_context.gop_size = fps if self.stream else 2 * fps
        if self.stream:
            video.codec_context.max_b_frames = 0
        if self.bitrate:
            video.codec_context.bit_rate = self.bitrate
            self.options.pop("crf", None)
        video.codec_context.options = dict(self.options)
        self._video = video
        self._audio = self._reencoder = None
        if with_audio and self._needs_reencode():
            self._reencoder = AacReencoder(self._template, self._out)
            self._audio = self._reencoder.stream
        elif with_audio:
            self._audio = self._out.add_stream_from_template(self._template)
        self._out.start_encoding()
        self._last = {"video": -1, "audio": -1}

    def _check_segments(self, overwrite: bool) -> None:
        """Segments are written in place (each one final when cut): refuse to replace an
        earlier run's pieces unless told to."""
        pattern = self._segment_pattern()
        existing = sorted(pattern.parent.glob(re.sub(r"%0?\d*d", "*", pattern.name)))
        if existing and not overwrite:
            raise OutputError(f"{existing[0]} and {len(existing) - 1} more segment(s) exist; "
                              "use -y to overwrite")

    def _segment_pattern(self) -> Path:
        if "%" in self._dst.name:
            return self._dst
        return self._dst.with_name(f"{self._dst.stem}_%05d{self._dst.suffix}")

    # -- writing ----------------------------------------------------------------------------
    def write(self, frame: av.VideoFrame, t: float) -> None:
        if self._out is None and not self._reopen():
            return
        if (frame.width, frame.height) != (self._width, self._height):
            frame = frame.reformat(self._width, self._height)  # a reconnect changed the size
        frame.pts, frame.time_base = self._next_pts("video", t), TIME_BASE
        self._guard(self._mux_video, frame)

    def _mux_video(self, frame: av.VideoFrame | None) -> None:
        for packet in self._video.encode(frame):
            self._out.mux(packet)
        if frame is not None:
            self.frames += 1

    def write_audio(self, packet: AudioPacket) -> None:
        if self._out is None or self._audio is None or packet.signature != self._audio_sig:
            return
        if self._reencoder is not None:
            for encoded in self._reencoder.encode(bytes(packet.packet), packet.time):
                self._guard(self._out.mux, encoded)
            return
        pts = round(packet.time / TIME_BASE)
        if pts <= self._last["audio"]:
            return  # overlaps what was written before a reconnect
        self._last["audio"] = pts
        copy = av.Packet(bytes(packet.packet))
        copy.stream, copy.time_base = self._audio, TIME_BASE
        copy.pts = copy.dts = pts
        copy.duration = round(packet.duration / TIME_BASE)
        self._guard(self._out.mux, copy)

    def _next_pts(self, kind: str, t: float) -> int:
        pts = max(round(t / TIME_BASE), self._last[kind] + 1)
        self._last[kind] = pts
        return pts

    def _guard(self, fn, arg) -> None:
        if not self.stream:
            fn(arg)
            return
        try:
            fn(arg)
        except (av.FFmpegError, OSError) as exc:
            self._failed(exc)

    # -- failure and retry (restreams only) -------------------------------------------------
    def _failed(self, exc: BaseException) -> None:
        self._close_quietly()
        delay = self.backoff.next_delay()
        self._retry_at = time.monotonic() + delay
        log.warning("restream to %s failed (%s); retrying in %.1f s", self.name, redact(exc), delay)

    def _reopen(self) -> bool:
        if not self.stream or time.monotonic() < self._retry_at:
            return False
        try:
            self._open()
        except (av.FFmpegError, OSError, ValueError) as exc:
            self._failed(exc)
            return False
        log.warning("restream to %s resumed", self.name)
        self.backoff.reset()
        return True

    def _close_quietly(self) -> None:
        if self._out is not None:
            with contextlib.suppress(av.FFmpegError, OSError):
                self._out.close()
        self._out = None
        if self._relay is not None:
            self._relay.close()
            self._relay = None

    # -- closing ----------------------------------------------------------------------------
    def close(self) -> None:
        if self._out is None:
            if self._tmp is not None:
                discard(self._tmp)
            return
        self._guard(self._mux_video, None)
        if self._reencoder is not None and self._out is not None:
            for encoded in self._reencoder.flush():
                self._guard(self._out.mux, encoded)
        if self.stream:
            self._close_quietly()
            return
        self._out.close()
        self._out = None
        if self._tmp is None:
            return
        if self.frames:
            commit(self._tmp, self._dst)
            log.info("wrote %d frames to %s", self.frames, self._dst)
        else:
            discard(self._tmp)
            log.warning("no frames reached %s; nothing written", self._dst)
