"""The interface every live output shares, apart from any encoder: previews import only this."""

from __future__ import annotations

from fractions import Fraction

import av

from .source import AudioPacket


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
