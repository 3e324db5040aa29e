"""A live recording cut into pieces by FFmpeg's segment muxer (``<stem>_00000.mp4``, ...)."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import av

from vidcolor.io.errors import OutputError
from vidcolor.redact import redact

from .container_sink import ContainerSink


class SegmentSink(ContainerSink):
    """Pieces of about ``seconds`` each, cut at keyframes. Each piece is final when cut, so
    they are written in place, not renamed; an earlier run's pieces need ``overwrite``."""

    def __init__(self, target: str, *, codec: str, options: dict[str, str], seconds: float,
                 overwrite: bool) -> None:
        super().__init__(target, codec=codec, options=options)
        dst = Path(target).expanduser().resolve()
        if not dst.parent.is_dir():
            raise OutputError(f"output folder {dst.parent} does not exist")
        self.pattern = dst if "%" in dst.name else dst.with_name(f"{dst.stem}_%05d{dst.suffix}")
        self.seconds = seconds
        self._format = dst.suffix.lstrip(".") or "mp4"
        existing = sorted(self.pattern.parent.glob(re.sub(r"%0?\d*d", "*", self.pattern.name)))
        if existing and not overwrite:
            raise OutputError(f"{existing[0]} and {len(existing) - 1} more segment(s) exist; "
                              "use -y to overwrite")

    def start(self, frame: av.VideoFrame, rate: Fraction, audio) -> None:
        try:
            super().start(frame, rate, audio)
        except (av.FFmpegError, OSError) as exc:
            raise OutputError(f"cannot write {self.name}: {redact(exc)}") from None

    def _output(self) -> av.container.OutputContainer:
        options = {"segment_time": f"{self.seconds:g}", "reset_timestamps": "1",
                   "segment_format": self._format}
        return av.open(str(self.pattern), "w", format="segment", options=options)
