"""One timeline from inputs whose timestamps jump: MPEG transport and program streams.

A recording made of pieces (``cat a.ts b.ts``, a capture across an encoder restart, a
broadcast's splices) restarts its clock at each join. FFmpeg's MPEG demuxers pass the jump
on (formats flagged ``AVFMT_TS_DISCONT``) and leave the caller to mend it, as the ``ffmpeg``
command does; a reader that does not would see time go back, drop the second piece's frames
and hand the muxer sound it refuses. Here, where a stream's timestamps go back, or forward
by more than :data:`JUMP` seconds, one offset shifts every stream from that packet on so
that the stream continues where it was expected to. Only sound and picture are watched:
subtitles may be silent for minutes.
"""

from __future__ import annotations

from fractions import Fraction

import av

TS_DISCONT = 0x0200  # AVFMT_TS_DISCONT: the format's timestamps may jump
JUMP = 10  # seconds forward that count as a jump, as ffmpeg's -dts_delta_threshold
BACK = Fraction(1, 10)  # seconds back that count as a jump (ffmpeg's too)


class SplicedTimeline:
    """``place(packet)`` shifts a demuxed packet onto the continuous timeline."""

    def __init__(self, container: av.container.InputContainer) -> None:
        self.active = bool(container.format.flags & TS_DISCONT)
        self._watched = {s.index for s in container.streams if s.type in ("video", "audio")}
        self.offset = Fraction(0)  # seconds added to every timestamp from here on
        self.joins = 0  # jumps mended so far
        self._last: dict[int, Fraction] = {}  # stream index -> last dts placed (seconds)
        self._next: dict[int, Fraction] = {}  # stream index -> where its next dts should be
        self._step: dict[int, Fraction] = {}  # stream index -> its last dts increment

    def place(self, packet: av.Packet) -> None:
        if not self.active or packet.dts is None or packet.time_base is None:
            return
        index, base = packet.stream_index, packet.time_base
        dts = packet.dts * base + self.offset
        if index in self._next and index in self._watched:
            last, expected = self._last[index], self._next[index]
            if dts < last - BACK or dts > expected + JUMP:
                self.offset += expected - dts
                self.joins += 1
                dts = expected
            elif dts > last:
                self._step[index] = dts - last
        shift = round(self.offset / base)
        packet.dts += shift
        if packet.pts is not None:
            packet.pts += shift
        self._last[index] = dts
        length = packet.duration * base if packet.duration else self._step.get(index, 0)
        self._next[index] = dts + length
