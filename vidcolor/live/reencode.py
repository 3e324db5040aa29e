"""AAC that arrived as ADTS (MPEG-TS, UDP feeds), re-encoded for RTSP restreams.

RTSP announces each stream's codec configuration before the first packet (in its SDP), and
ADTS AAC carries that configuration in every packet's header instead of once up front, so
stream copy has nothing to announce. Files and the other restream formats take the packets
as they are; only this case decodes the audio and encodes it again as AAC with a global
header (one warning line), as the file pipeline does for a container that cannot hold a codec.
"""

from __future__ import annotations

from fractions import Fraction

import av


def lacks_global_header(stream: av.audio.stream.AudioStream) -> bool:
    ctx = stream.codec_context
    return ctx.name == "aac" and not ctx.extradata


class AacReencoder:
    """Decodes a source stream's packets and encodes them as AAC into ``out``; timestamps
    follow the session timeline (seconds), never going back."""

    def __init__(self, template: av.audio.stream.AudioStream,
                 out: av.container.OutputContainer) -> None:
        source = template.codec_context
        self.decoder = av.CodecContext.create(source.name, "r")
        self.rate = source.sample_rate
        self.stream = out.add_stream("aac", rate=self.rate)
        self.stream.layout = source.layout
        self._time_base = Fraction(1, self.rate)
        self._next: int | None = None

    def encode(self, data: bytes, t: float) -> list[av.Packet]:
        """Packets for one source packet's bytes, which start ``t`` seconds into the session."""
        packets = []
        for frame in self.decoder.decode(av.Packet(data)):
            start = round(t * self.rate)
            self._next = start if self._next is None else max(self._next, start)
            frame.pts, frame.time_base = self._next, self._time_base
            self._next += frame.samples
            packets += self.stream.encode(frame)
        return packets

    def flush(self) -> list[av.Packet]:
        return self.stream.encode(None)
