"""Live inputs: URL and device detection, low-latency open options, and the capture thread.

The capture thread decodes as fast as the source delivers and hands frames to a
:class:`~vidcolor.live.latest.LatestQueue`, so a slow colorizer drops old frames instead of
falling behind. Stream loss is retried with :class:`~vidcolor.live.backoff.Backoff`; nothing
downstream notices except a gap.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import av

from vidcolor.redact import redact

from .backoff import Backoff
from .latest import LatestQueue
from .relay import Relay, relay_command
from .stats import LiveStats

log = logging.getLogger("vidcolor.live")

NETWORK_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "rtp", "udp", "srt", "tcp", "http", "https")
DEVICE_FORMATS = ("v4l2", "video4linux2", "avfoundation", "dshow", "x11grab", "gdigrab")
_FINITE_SCHEMES = ("", "file", "http", "https")  # a source with a duration here can really end
_DATAGRAM_SCHEMES = ("udp", "rtp")
_PLAYLIST_FORMATS = ("hls", "dash")
_FPS_PROBE_FRAMES = "5"  # enough for the frame rate of a steady stream; FFmpeg's default is 20


def scheme_of(source: str) -> str:
    return source.split("://", 1)[0].lower() if "://" in source else ""


def is_live_source(source: str, input_format: str | None = None) -> bool:
    """True for network stream URLs, capture devices (``/dev/video*``, dshow ``video=...``)
    and anything opened with a device ``input_format`` (e.g. ``avfoundation`` + ``"0"``)."""
    if input_format is not None and input_format in DEVICE_FORMATS:
        return True
    return (
        scheme_of(source) in NETWORK_SCHEMES
        or source.startswith("/dev/video")
        or source.startswith("video=")
    )


def plays_to_an_end(url: str, options: dict[str, str] | None = None,
                    timeout: float = 10.0) -> bool:
    """Whether an http(s) URL holds a finite video (a file on a web server, an HLS playlist
    that ends): FFmpeg knows its duration. Written to files, such a source is colorized as a
    file is, every frame with its timestamps and sound, not paced and thinned as a live one."""
    if scheme_of(url) not in ("http", "https"):
        return False
    try:
        with av.open(url, options=options, timeout=timeout) as container:
            return ends(container, url)
    except (av.FFmpegError, OSError):
        return False  # the live path reports it, or waits for it


def ends(container: av.container.InputContainer, url: str) -> bool:
    """Whether an opened source is a recording that really ends: a duration, or, over HTTP, a
    media file served whole (with a length; a live stream has none, and a live playlist's
    length is the playlist's). Reconnecting to one would play it again from the start."""
    if scheme_of(url) not in _FINITE_SCHEMES:
        return False
    if container.duration is not None:
        return True
    return container.size > 0 and container.format.name not in _PLAYLIST_FORMATS


@dataclass
class SourceSpec:
    """How to open a live input. ``input_format``/``video_size``/``framerate`` mean what
    ffmpeg's ``-f``/``-video_size``/``-framerate`` mean; ``options`` go to FFmpeg verbatim
    (e.g. ``{"input_format": "mjpeg"}`` for a v4l2 pixel format, ``{"rtsp_transport": "udp"}``)."""

    url: str
    input_format: str | None = None
    video_size: str | None = None
    framerate: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    open_timeout: float = 5.0
    read_timeout: float = 5.0

    def format_name(self) -> str | None:
        if self.input_format:
            return self.input_format
        if self.url.startswith("/dev/video") and sys.platform.startswith("linux"):
            return "v4l2"
        if self.url.startswith("video="):
            return "dshow"
        return None

    @property
    def listens(self) -> bool:
        """Datagram sources bind a port and wait there for a sender: nothing to back off from."""
        return scheme_of(self.url) in _DATAGRAM_SCHEMES

    def av_options(self) -> dict[str, str]:
        """FFmpeg options for a low, bounded delay: short probing, socket timeouts so a dead
        server cannot hang the reader.

        What probing reads is kept (no ``fflags=nobuffer``): it holds the stream's first
        keyframe, and with a long GOP (x264's default 250 frames, cameras, OBS) nothing
        decodes until the next one. Probing stops after a few frames (``fpsprobesize``)
        instead of FFmpeg's 20, so it buffers ~0.15 s, not ~0.7 s, before the first frame.
        """
        scheme = scheme_of(self.url)
        micros = str(int(self.read_timeout * 1e6))
        opts: dict[str, str] = {}
        if scheme in NETWORK_SCHEMES:
            opts.update(flags="low_delay", analyzeduration="1000000", probesize="1000000",
                        fpsprobesize=_FPS_PROBE_FRAMES, rw_timeout=micros)
        if scheme in ("rtsp", "rtsps"):
            opts.update(rtsp_transport="tcp", timeout=micros)
        elif scheme == "udp":
            opts.update(timeout=micros, overrun_nonfatal="1", fifo_size="50000",
                        buffer_size="2097152")
        elif scheme in ("tcp", "srt"):
            opts["timeout"] = micros
        if self.video_size:
            opts["video_size"] = self.video_size
        if self.framerate:
            opts["framerate"] = self.framerate
        opts.update(self.options)
        return opts

    def open(self) -> tuple[av.container.InputContainer, Callable[[], None]]:
        """The opened input and how to close it: a protocol PyAV lacks (SRT in PyPI's wheels)
        comes through an ``ffmpeg`` relay process, which closing also ends."""
        exe = relay_command(scheme_of(self.url))
        if exe is not None:
            relay = Relay.reader(exe, self.url, self.av_options(), self.open_timeout)
            return relay.container, relay.close
        container = av.open(self.url, format=self.format_name(), options=self.av_options(),
                            timeout=(self.open_timeout, self.read_timeout))
        return container, container.close


@dataclass
class Captured:
    """A decoded frame with its capture time (monotonic) and its place on the output timeline."""

    frame: av.VideoFrame
    captured_at: float
    time: float


@dataclass
class AudioPacket:
    """A demuxed audio packet, passed through untouched; ``signature`` tells the sinks whether
    it still matches the stream they were opened with (a reconnect may bring another codec)."""

    packet: av.Packet
    time: float
    duration: float
    signature: tuple


def audio_signature(stream: av.audio.stream.AudioStream) -> tuple:
    ctx = stream.codec_context
    return (ctx.name, ctx.sample_rate, ctx.channels if hasattr(ctx, "channels") else None)


class _Timeline:
    """Maps one connection's source timestamps onto the session's seconds-since-start, so
    video and audio stay in step and reconnects continue forward instead of restarting at 0.
    A jump of more than ``tolerance`` seconds in the source's own timestamps (source restart,
    wrap) re-anchors to the clock. Late arrival alone does not: the frames a decoder gives
    back when a lost connection is flushed, seconds after the loss, keep their own times
    instead of landing, stale, where the loss was noticed."""

    def __init__(self, session_start: float, last: float, tolerance: float = 2.0) -> None:
        self._start, self._last, self._tolerance = session_start, last, tolerance
        self._offset: float | None = None
        self._src: float | None = None  # the latest source timestamp seen

    def map(self, src_time: float | None, now: float) -> float:
        wall = now - self._start
        if src_time is None:
            out = wall
        else:
            if self._src is None or abs(src_time - self._src) > self._tolerance:
                self._offset = max(wall, self._last) - src_time
            self._src = src_time
            out = src_time + self._offset
        self._last = max(self._last, out)
        return out


class SourceGaveUp(RuntimeError):
    """The source stayed unreachable for longer than the reconnect policy allows."""


class CaptureThread(threading.Thread):
    """Reads ``spec`` until stopped; reconnects on loss (unless ``reconnect`` is False). A file,
    or a recording over HTTP (it has a duration), is released at its own frame rate, like
    ``ffmpeg -re``, and ends at its end."""

    def __init__(self, spec: SourceSpec, frames: LatestQueue[Captured], stats: LiveStats,
                 backoff: Backoff, *, reconnect: bool = True, audio: bool = True,
                 audio_queue_size: int = 512) -> None:
        super().__init__(name="vidcolor-capture", daemon=True)
        self.spec, self.frames, self.stats, self.backoff = spec, frames, stats, backoff
        self.reconnect, self.want_audio = reconnect, audio
        self.audio: LatestQueue[AudioPacket] = LatestQueue(audio_queue_size)
        self.audio_stream: av.audio.stream.AudioStream | None = None
        self.rate: Fraction | None = None
        self.template_used = threading.Event()
        self.error: BaseException | None = None
        self._halt = threading.Event()
        self._start_time = time.monotonic()
        self._last_time = 0.0
        self._name = redact(spec.url)
        self.paced = not is_live_source(spec.url, spec.input_format)
        self._pace_origin: float | None = None

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # reported by the runner on the main thread
            self.error = exc
        finally:
            self.frames.close()
            self.audio.close()

    def _loop(self) -> None:
        connected_before = False
        while not self._halt.is_set():
            began = time.monotonic()
            try:
                container, close = self.spec.open()
            except (av.FFmpegError, OSError) as exc:
                if not connected_before and not self.reconnect:
                    raise RuntimeError(f"cannot open {self._name}: {redact(exc)}") from None
                self._wait_or_give_up(f"open failed: {redact(exc)}", began)
                continue
            if connected_before:
                self.stats.reconnects += 1
                log.warning("reconnected to %s after %.1f s", self._name, self.backoff.failing_for)
            connected_before = True
            reason = self._read(container, close)
            if reason is None:
                return
            if self._halt.is_set():
                return
            if not self.reconnect:
                raise RuntimeError(f"lost {self._name}: {reason}")
            log.warning("lost %s (%s); reconnecting", self._name, reason)
            self.stats.state = "reconnecting"
            self._wait_or_give_up(None, began)

    def _wait_or_give_up(self, failure: str | None, began: float) -> None:
        delay = self.backoff.next_delay()
        if delay is None:
            raise SourceGaveUp(
                f"gave up on {self._name} after {self.backoff.failing_for:.0f} s without input")
        if self._was_listening(began):
            delay = 0.0
        if failure:
            log.info("%s; retrying %s in %.1f s", failure, self._name, delay)
        self._halt.wait(delay)

    def _was_listening(self, began: float) -> bool:
        """Whether the attempt that began at ``began`` held a datagram port for a whole timeout:
        it was waiting for a sender, not failing fast, so reopening at once cannot spin, and
        it keeps the port bound: a sender starting during a backoff wait would lose its first
        datagrams, its first keyframe with them."""
        spec = self.spec
        waited = time.monotonic() - began
        return spec.listens and waited >= min(spec.open_timeout, spec.read_timeout)

    def _read(self, container: av.container.InputContainer, close: Callable[[], None]) -> str | None:
        """Demux until stop or loss; the loss reason, or None when a finite source ended."""
        first_connection = not self.template_used.is_set()
        try:
            video = container.streams.video[0]
        except IndexError:
            close()
            return "no video stream"
        if self.rate is None:
            self.rate = video.average_rate or video.guessed_rate
        video.thread_type = "SLICE"  # frame threading would add a frame of delay per thread
        streams = [video]
        signature = None
        if self.want_audio and container.streams.audio:
            audio = container.streams.audio[0]
            streams.append(audio)
            signature = audio_signature(audio)
            if first_connection:
                self.audio_stream = audio
        timeline = _Timeline(self._start_time, self._last_time)
        finite = ends(container, self.spec.url)
        self.paced = self.paced or finite  # a recording (HLS VOD, MP4 over HTTP) plays in real time
        try:
            for packet in container.demux(streams):
                if self._halt.is_set():
                    return "stopped"
                if packet.stream.type == "video":
                    self._decode(packet, timeline)
                elif packet.dts is not None and packet.time_base is not None:
                    self._audio(packet, timeline, signature)
            return None if finite else "end of stream"
        except (av.FFmpegError, OSError) as exc:
            return redact(exc)
        finally:
            self._last_time = timeline.map(None, time.monotonic())
            if first_connection and self.stats.frames_in:
                self.template_used.wait(5.0)  # the sinks copy the audio stream's parameters
            close()

    def _decode(self, packet: av.Packet, timeline: _Timeline) -> None:
        try:
            frames = packet.decode()
        except av.InvalidDataError:  # a damaged packet (lost datagrams): skip it, keep going
            self.stats.corrupt_packets += 1
            return
        for frame in frames:
            self._frame(frame, timeline)

    def _frame(self, frame: av.VideoFrame, timeline: _Timeline) -> None:
        if self.paced and frame.time is not None:
            self._pace(frame.time)
        now = time.monotonic()
        if self.stats.state != "live":
            self.stats.state = "live"
            self.backoff.reset()
        self.stats.frame_in()
        self.frames.put(Captured(frame, now, timeline.map(frame.time, now)))
        self.stats.dropped = self.frames.dropped

    def _pace(self, t: float) -> None:
        """Release a file's frames at their own pace, like ``ffmpeg -re`` (files are not live)."""
        if self._pace_origin is None:
            self._pace_origin = time.monotonic() - t
        delay = self._pace_origin + t - time.monotonic()
        if delay > 0:
            self._halt.wait(delay)

    def _audio(self, packet: av.Packet, timeline: _Timeline, signature: tuple) -> None:
        src = float(packet.pts * packet.time_base) if packet.pts is not None else None
        duration = float(packet.duration * packet.time_base) if packet.duration else 0.0
        self.audio.put(AudioPacket(packet, timeline.map(src, time.monotonic()), duration,
                                   signature))
