"""Audio and subtitle streams, and chapters, carried into the output.

Stream copy is the rule: the same packet bytes with the same timestamps. Only when the output
container cannot hold a codec is that one stream transcoded (audio to AAC, else Opus, else the
container's own audio codec; text subtitles to the container's text format), or, failing that, dropped.
The caller gets one warning line per such stream.

Packets of a live source come re-stamped on the session's timeline in seconds (reconnects
continue it), so each route also takes ``write_at(data, start, duration)``: the bytes placed
on that timeline at :data:`TIME_BASE`, never going back.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from fractions import Fraction

import av

log = logging.getLogger(__name__)

_AUDIO_FALLBACKS = ("aac", "libopus")
_TEXT_SUB_FALLBACKS = ("mov_text", "ass", "webvtt", "subrip")
# Per-file statistics that would be wrong after re-muxing (Matroska writes them itself).
_STALE_TAGS = ("encoder", "duration", "number_of_", "bps", "_statistics")
# FFmpeg's default layouts by channel count, for inputs (AVI, WAV) that name none.
_DEFAULT_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "4.0", 5: "5.0", 6: "5.1", 8: "7.1"}
_MOV_TEXT_END = b"\x00\x00"  # a tx3g sample with no text
_TS_NONSTRICT = 0x20000  # AVFMT_TS_NONSTRICT: the muxer takes equal timestamps in a stream
# Muxers that take any stream until the header is written, then refuse all but their own
# codecs. FFmpeg lists YUV4MPEG's exactly (``supported_codecs``: raw video) but only Ogg's
# defaults (VP8, FLAC), so Ogg's are written out here, as its muxer checks them. Other
# muxers' lists can be incomplete (MPEG-TS lists MPEG-2 video only), so for them adding the
# stream is the test.
_HOLDS = {"ogg": frozenset({"flac", "opus", "speex", "theora", "vorbis", "vp8"}),
          "mxf": frozenset({"dnxhd", "dvvideo", "ffv1", "h264", "jpeg2000", "mpeg2video",
                            "prores", "rawvideo", "pcm_s16le", "pcm_s24le"})}
_HOLDS["ogv"] = _HOLDS["ogg"]
# Muxers that take sound at one rate only (MXF: 48 kHz, as broadcast does).
_SOUND_RATE = {"mxf": 48000}
_LISTED_ONLY = frozenset({"yuv4mpegpipe"})
_ATTACHMENT_MUXERS = frozenset({"matroska"})  # WebM, MP4 and the rest have no place for them
#: The clock of packets placed by ``write_at``: MPEG's 90 kHz, exact for common frame rates.
TIME_BASE = Fraction(1, 90000)


class Carried:
    """One input stream's route into the output: ``write(packet)``, then ``flush()``."""

    def __init__(self, output: av.container.OutputContainer, out: av.stream.Stream) -> None:
        self.output = output
        self.out = out
        self.dropped = 0  # packets whose time went back
        self._last_pts = -1  # of the last packet placed by write_at
        self._last_dts: Fraction | None = None  # seconds, of the last packet written
        self._equal_dts_ok = bool(output.format.flags & _TS_NONSTRICT)

    def write(self, packet: av.Packet) -> None:
        """Route a packet of the input stream. One whose time goes back is dropped, where
        the muxer would refuse it and end the run: the overlap of a spliced recording's
        pieces, a damaged file."""
        if not self._goes_back(packet):
            self._route(packet)

    def _route(self, packet: av.Packet) -> None:
        packet.stream = self.out
        self.output.mux(packet)

    def _goes_back(self, packet: av.Packet) -> bool:
        if packet.dts is None or packet.time_base is None:
            return False
        dts, last = packet.dts * packet.time_base, self._last_dts
        if last is not None and (dts < last or (dts == last and not self._equal_dts_ok)):
            if not self.dropped:
                log.warning("%s stream: dropped a packet at %.3f s, before the one at %.3f s "
                            "(further ones are only counted)", self.out.type, dts, last)
            self.dropped += 1
            return True
        self._last_dts = dts
        return False

    def write_at(self, data: bytes, start: float, duration: float) -> None:
        """Copy a packet's bytes to ``start`` seconds on the output's timeline. A packet that
        does not come after the last one is dropped: a reconnected source repeats a little."""
        pts = round(start / TIME_BASE)
        if pts <= self._last_pts:
            return
        self._last_pts = pts
        packet = av.Packet(data)
        packet.time_base, packet.pts, packet.dts = TIME_BASE, pts, pts
        packet.duration = round(duration / TIME_BASE)
        self.write(packet)

    def flush(self) -> None:
        """Copied streams hold nothing back."""


class MovTextCopy(Carried):
    """mov_text into MP4/MOV: the muxer writes its own empty "subtitle end" samples.

    Copying the input's end samples as well would double them, so only real events pass.
    """

    def _route(self, packet: av.Packet) -> None:
        if bytes(packet) != _MOV_TEXT_END:
            super()._route(packet)


class AudioTranscode(Carried):
    """Decode with the input's decoder, re-encode with ``out``'s encoder."""

    def __init__(self, output, out, template: av.AudioStream) -> None:
        super().__init__(output, out)
        self.template = template
        self._next = 0  # first sample write_at may place, in 1 / template.rate

    def _route(self, packet: av.Packet) -> None:
        for frame in self.template.decode(packet):
            self.output.mux(self.out.encode(frame))

    def write_at(self, data: bytes, start: float, duration: float) -> None:
        """Decode a packet's bytes and encode its samples from ``start`` seconds on. A frame
        that would overlap the one before starts where that one ended instead: encoder and
        muxer refuse timestamps that go back."""
        rate = self.template.rate
        # The template's decoder outlives its container: a live source's first connection.
        for frame in self.template.decode(av.Packet(data)):
            self._next = max(self._next, round(start * rate))
            frame.pts, frame.time_base = self._next, Fraction(1, rate)
            self._next += frame.samples
            self.output.mux(self.out.encode(frame))

    def flush(self) -> None:
        self.output.mux(self.out.encode(None))


class SubtitleTranscode(Carried):
    """Re-encode each text subtitle event, keeping the input packet's timing."""

    def __init__(self, output, out, template: av.stream.Stream) -> None:
        super().__init__(output, out)
        self.template = template

    def _route(self, packet: av.Packet) -> None:
        subtitles = self.template.codec_context.decode2(packet)
        if not subtitles:
            return
        encoded = self.out.codec_context.encode_subtitle(subtitles)
        encoded.stream = self.out
        encoded.time_base = packet.time_base
        encoded.pts, encoded.dts, encoded.duration = packet.pts, packet.dts, packet.duration
        self.output.mux(encoded)


def muxer_refuses(output: av.container.OutputContainer, codec: str) -> bool:
    """Whether ``output``'s muxer is known to refuse ``codec``, an encoder's or a decoder's
    name (see ``_HOLDS``); False means adding the stream will tell."""
    muxer = output.format.name
    if muxer in _HOLDS:
        return _codec_id_name(codec) not in _HOLDS[muxer]
    return muxer in _LISTED_ONLY and codec not in output.supported_codecs


def _codec_id_name(codec: str) -> str:
    """The format's name for what ``codec`` encodes or decodes: ``libopus`` -> ``opus``."""
    for mode in ("w", "r"):
        try:
            return av.Codec(codec, mode).canonical_name
        except av.codec.codec.UnknownCodecError:
            continue
    return codec


def carry(
    output: av.container.OutputContainer, template: av.stream.Stream
) -> tuple[Carried | None, str | None]:
    """Add ``template``'s stream to ``output``; returns its route and a warning, if any.
    An attachment (no packets, no route) is added whole where the muxer takes one."""
    if template.type == "attachment":
        return None, _attach(output, template)
    route = _stream_copy(output, template)
    if route is None and template.type == "audio":
        route = transcode_audio(output, template)
    elif route is None and template.type == "subtitle" and template.codec_context.codec.text_sub:
        route = _subtitle_transcode(output, template)
    label = f"{template.type} stream #{template.index} ({template.codec_context.name})"
    if route is None:
        return None, f"{label} cannot be stored in {output.format.name}; dropped"
    _copy_tags(template, route.out)
    if isinstance(route, AudioTranscode | SubtitleTranscode):
        into = output.format.name
        return route, (f"{label} cannot be stream-copied into {into}; transcoding to "
                       f"{_described(route.out.codec_context, template.codec_context)}")
    return route, None


def _attach(output: av.container.OutputContainer, template: av.AttachmentStream) -> str | None:
    """Add the attachment ``template`` (a font, cover art) to ``output``; a warning if the
    muxer has no place for it."""
    if output.format.name not in _ATTACHMENT_MUXERS:
        return (f"attachment {template.name!r} ({template.mimetype}) cannot be stored in "
                f"{output.format.name}; dropped")
    output.add_attachment(template.name, template.mimetype, template.data)
    return None


def _stream_copy(output: av.container.OutputContainer,
                 template: av.stream.Stream) -> Carried | None:
    """A route copying ``template``'s packets as they are, or None where ``output``'s muxer
    cannot hold its codec."""
    codec = template.codec_context.name
    if muxer_refuses(output, codec) or not _rate_fits(output, template):
        return None
    try:
        out = output.add_stream_from_template(template)
    except ValueError:
        return None
    return (MovTextCopy if codec == "mov_text" else Carried)(output, out)  # mov_text: MP4/MOV


def _rate_fits(output: av.container.OutputContainer, template: av.stream.Stream) -> bool:
    """Whether ``template``, if sound, comes at the rate ``output``'s muxer takes (most take
    any)."""
    if template.type != "audio":
        return True
    return _SOUND_RATE.get(output.format.name, template.rate) == template.rate


def transcode_audio(
    output: av.container.OutputContainer, template: av.AudioStream
) -> AudioTranscode | None:
    """Add an AAC (else Opus, else the container's own) stream fed by decoding ``template``."""
    for name in dict.fromkeys((*_AUDIO_FALLBACKS, output.default_audio_codec)):
        if muxer_refuses(output, name):
            continue
        rate = _encoder_rate(name, _SOUND_RATE.get(output.format.name, template.rate))
        layout = _encoder_layout(name, rate, template.layout)
        if layout is None:
            continue
        try:
            out = output.add_stream(name, rate=rate)
        except (ValueError, av.FFmpegError):
            continue
        out.layout = layout
        out.time_base = Fraction(1, rate)
        return AudioTranscode(output, out, template)
    return None


def _encoder_rate(encoder: str, rate: int) -> int:
    """``rate`` where ``encoder`` takes it, else the next rate up it takes (the highest if
    none is): Opus runs at 48 kHz only, and refused 44.1 kHz sound when it was opened."""
    rates = sorted(av.Codec(encoder, "w").audio_rates or ())
    if not rates or rate in rates:
        return rate
    return next((r for r in rates if r > rate), rates[-1])


def _encoder_layout(encoder: str, rate: int, layout: av.AudioLayout) -> str | None:
    """The first of ``layout``, FFmpeg's default layout for as many channels, stereo and mono
    that ``encoder`` opens with (None: none): Opus refuses 5.1 with side speakers (AC-3's and
    DTS's), which the encoder only said when the first samples reached it."""
    candidates = (_named_layout(layout), _DEFAULT_LAYOUTS.get(layout.nb_channels), "stereo",
                  "mono")
    for name in dict.fromkeys(c for c in candidates if c):
        context = av.CodecContext.create(encoder, "w")
        context.sample_rate, context.layout = rate, name
        context.format = context.codec.audio_formats[0]
        context.time_base = Fraction(1, rate)
        try:
            context.open()
        except av.FFmpegError:
            continue
        return name
    return None


def lacks_global_header(stream: av.AudioStream) -> bool:
    """AAC framed as ADTS (MPEG-TS and UDP feeds) carries its configuration in every packet,
    not once up front; stream copy cannot announce it where a format must (RTSP's SDP)."""
    ctx = stream.codec_context
    return ctx.name == "aac" and not ctx.extradata


def chapters_until(chapters: Iterable[dict], end: Fraction, slack: Fraction) -> list[dict]:
    """The chapters that start before ``end`` seconds, one that runs on past ``end + slack``
    cut at ``end``: an output stopped early (--duration, a signal) lists only what it holds,
    while chapters that overrun their video by rounding (a frame at most) stay as they were."""
    kept = []
    for chapter in chapters:
        base = chapter["time_base"]
        if chapter["start"] * base >= end:
            continue
        overrun = chapter["end"] * base > end + slack
        kept.append({**chapter, "end": math.floor(end / base) if overrun else chapter["end"]})
    return kept


def moved_back(chapters: Iterable[dict], origin: Fraction) -> list[dict]:
    """``chapters`` on the output's clock, which starts ``origin`` seconds into the input's
    (:func:`output_origin`)."""
    moved = []
    for chapter in chapters:
        shift = round(origin / chapter["time_base"])
        moved.append({**chapter, "start": max(0, chapter["start"] - shift),
                      "end": max(0, chapter["end"] - shift)})
    return moved


def output_origin(start_time: int) -> Fraction:
    """Where the output's zero lies on its input's clock, in seconds: where the input starts
    (``start_time`` microseconds: 1.4 s into an MPEG-TS, hours into a camcorder's clip), as the
    ``ffmpeg`` command has it; kept, the output would open on that much nothing (an MP4's
    empty edit, a 3 s clip listed as an hour long). Zero for an input starting before zero
    (an MP4's audio priming), left as it is."""
    return Fraction(max(0, start_time), av.time_base)


def zero_start(origin: Fraction) -> dict[str, str]:
    """Muxer options moving every stream back by ``origin`` seconds together, so sync and
    each frame's spacing stay the input's."""
    return {"output_ts_offset": f"-{round(origin * 1_000_000)}us"} if origin else {}


def _described(out: av.codec.context.CodecContext, source: av.codec.context.CodecContext) -> str:
    """The encoder's name, with the rate and layout it runs at where they are not the source's."""
    notes = []
    if out.type == "audio":
        if out.sample_rate != source.sample_rate:
            notes.append(f"{out.sample_rate} Hz")
        if out.layout.name != _named_layout(source.layout):
            notes.append(out.layout.name)
    return out.name + (f" ({', '.join(notes)})" if notes else "")


def _named_layout(layout: av.AudioLayout) -> str:
    """Encoders such as AAC refuse an unordered "N channels" layout."""
    if layout.name.endswith("channels"):
        return _DEFAULT_LAYOUTS.get(layout.nb_channels, layout.name)
    return layout.name


def _subtitle_transcode(output, template) -> SubtitleTranscode | None:
    template.codec_context.open(strict=False)  # the decoder builds the ASS header
    for name in dict.fromkeys((output.default_subtitle_codec, *_TEXT_SUB_FALLBACKS)):
        try:
            out = output.add_stream(name)
        except (ValueError, av.FFmpegError):
            continue
        out.codec_context.subtitle_header = template.codec_context.subtitle_header
        out.codec_context.time_base = template.time_base
        out.time_base = template.time_base
        return SubtitleTranscode(output, out, template)
    return None


def fresh_tags(metadata: dict[str, str]) -> dict[str, str]:
    """Tags worth carrying over: all but encoder names and per-file statistics."""
    return {k: v for k, v in metadata.items() if not k.lower().startswith(_STALE_TAGS)}


def _copy_tags(template: av.stream.Stream, out: av.stream.Stream) -> None:
    out.metadata.update(fresh_tags(template.metadata))
    out.disposition = template.disposition
