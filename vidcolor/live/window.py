"""Preview window (OpenCV ``imshow``); skipped with one warning where there is no display or
the installed OpenCV has no GUI (``opencv-python-headless``). ``q`` or Esc ends the run."""

from __future__ import annotations

import logging
import os
import sys
from fractions import Fraction

import av
import cv2

from .sinks import Sink

log = logging.getLogger("vidcolor.live")
TITLE = "vidcolor live"


def display_available() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class WindowSink(Sink):
    name = "preview window"

    def __init__(self) -> None:
        self.enabled = False

    def start(self, frame: av.VideoFrame, rate: Fraction, audio) -> None:
        if not display_available():
            log.warning("no display: preview window skipped (try --serve 127.0.0.1:8080)")
            return
        try:
            cv2.namedWindow(TITLE, cv2.WINDOW_NORMAL)
        except cv2.error:
            log.warning("this OpenCV has no GUI support: preview window skipped "
                        "(try --serve 127.0.0.1:8080)")
            return
        self.enabled = True

    def write(self, frame: av.VideoFrame, t: float) -> None:
        if not self.enabled:
            return
        cv2.imshow(TITLE, frame.to_ndarray(format="bgr24"))
        if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
            self.stop_requested = True

    def close(self) -> None:
        if self.enabled:
            cv2.destroyWindow(TITLE)
            cv2.waitKey(1)
