"""Where coloured frames go: the encoded outputs, one class per kind, chosen from the target.

Each output encodes on its own, because a file wants quality and a restream wants no delay.
A restream that fails is reopened with backoff while the others carry on; a file or a
segment that fails stops the run.
"""

from __future__ import annotations

from vidcolor.io.writer import choose_encoder, encoder_options
from vidcolor.specs import STREAM_CODEC, OutputSpec

from .file_sink import FileSink
from .restream_sink import RestreamSink, is_stream_target
from .segment_sink import SegmentSink
from .sink import Sink


def open_sink(target: str, output: OutputSpec = OutputSpec(), *,
              segment_seconds: float | None = None, overwrite: bool = False,
              timeout: float = 5.0, retry_cap: float = 10.0) -> Sink:
    """The output for ``target``, encoded as ``output`` says (no codec: H.264 for restreams,
    the container's natural one for files): a :class:`RestreamSink` for rtsp/rtmp/udp/srt/tcp
    URLs (which ignore ``segment_seconds`` and ``overwrite``), else a :class:`SegmentSink`
    when ``segment_seconds`` is given, else a :class:`FileSink`. Bad file destinations and
    codecs their container cannot hold raise ``OutputError`` here, before any source is
    opened."""
    crf, preset, bitrate = output.crf, output.preset, output.bitrate
    if is_stream_target(target):
        codec = output.codec or STREAM_CODEC
        return RestreamSink(target, codec=codec,
                            options=encoder_options(codec, True, crf, preset, bitrate),
                            timeout=timeout, retry_cap=retry_cap)
    codec = choose_encoder(target, output.codec).name
    options = encoder_options(codec, False, crf, preset, bitrate)
    if segment_seconds:
        return SegmentSink(target, codec=codec, options=options, seconds=segment_seconds,
                           overwrite=overwrite)
    return FileSink(target, codec=codec, options=options, overwrite=overwrite)
