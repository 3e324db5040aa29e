"""Preview window: OpenCV's ``imshow`` where OpenCV has a GUI, else a Tk window.

vidcolor depends on ``opencv-python-headless`` (no GUI, no Qt in a server install), so the
window usually comes from the standard library's tkinter, fed binary PPM: no extra package.
Where neither works (no display, Python built without Tk) the run goes on with one warning.
``q``, Esc or closing the window ends the run.
"""

from __future__ import annotations

import logging
import os
import sys
from fractions import Fraction

import av
import cv2
import numpy as np

from .sink import Sink

log = logging.getLogger("vidcolor.live")
TITLE = "vidcolor live"
QUIT_KEYS = ("q", "Escape")


def display_available() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class _OpenCVWindow:
    def __init__(self) -> None:
        cv2.namedWindow(TITLE, cv2.WINDOW_NORMAL)  # cv2.error without GUI support
        self.closed = False

    def show(self, bgr: np.ndarray) -> None:
        cv2.imshow(TITLE, bgr)
        if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
            self.closed = True

    def close(self) -> None:
        cv2.destroyWindow(TITLE)
        cv2.waitKey(1)


class _TkWindow:
    """A Tk label showing each frame as a PhotoImage built from binary PPM."""

    def __init__(self) -> None:
        import tkinter  # ImportError where Python was built without Tk

        self._tk = tkinter
        self.root = tkinter.Tk()  # tkinter.TclError without a usable display
        self.root.title(TITLE)
        self.label = tkinter.Label(self.root, borderwidth=0)
        self.label.pack()
        self.closed = False
        self.shown = 0
        self.root.bind("<Key>", self._key)
        self.root.protocol("WM_DELETE_WINDOW", self._close_requested)

    def _key(self, event) -> None:
        if event.keysym in QUIT_KEYS:
            self.closed = True

    def _close_requested(self) -> None:
        self.closed = True

    def show(self, bgr: np.ndarray) -> None:
        height, width = bgr.shape[:2]
        ppm = b"P6 %d %d 255\n" % (width, height) + bgr[..., ::-1].tobytes()
        image = self._tk.PhotoImage(data=ppm, format="PPM")
        self.label.configure(image=image)
        self.label.image = image  # Tk keeps no reference of its own
        self.root.update()
        self.shown += 1

    def close(self) -> None:
        self.root.destroy()


class WindowSink(Sink):
    name = "preview window"

    def __init__(self) -> None:
        self.window: _OpenCVWindow | _TkWindow | None = None

    def start(self, frame: av.VideoFrame, rate: Fraction, audio) -> None:
        if not display_available():
            log.warning("no display: preview window skipped (try --serve 127.0.0.1:8080)")
            return
        for backend in (_OpenCVWindow, _TkWindow):
            try:
                self.window = backend()
                return
            except Exception:  # noqa: BLE001 - cv2.error, ImportError, TclError: try the next
                continue
        log.warning("neither OpenCV nor Tk can open a window here: preview skipped "
                    "(try --serve 127.0.0.1:8080)")

    def write(self, frame: av.VideoFrame, t: float) -> None:
        if self.window is None:
            return
        self.window.show(frame.to_ndarray(format="bgr24"))
        self.stop_requested = self.window.closed

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window = None
