"""The preview window on a real X server (Xvfb): frames reach it, q and closing end the run.
Skipped where Xvfb or Tk is missing (``apt-get install xvfb``)."""

from __future__ import annotations

import shutil
import subprocess
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from servers.helpers import tiny_colorizer
from servers.push import make

from vidcolor.live import run_live
from vidcolor.live.window import WindowSink, _TkWindow

pytest.importorskip("tkinter")
pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def display():
    """A private Xvfb display, as DISPLAY, for this module."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb not installed (apt-get install xvfb)")
    for number in range(90, 110):
        if not Path(f"/tmp/.X11-unix/X{number}").exists():
            break
    server = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "800x600x24", "-nolisten",
                               "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.skip("Xvfb did not start")
        time.sleep(0.05)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DISPLAY", f":{number}")
        yield f":{number}"
    server.terminate()
    server.wait(5)


def _frame(rgb: tuple[int, int, int]) -> av.VideoFrame:
    image = np.zeros((48, 64, 3), np.uint8)
    image[:] = rgb
    return av.VideoFrame.from_ndarray(image, format="rgb24")


def _tk_sink() -> tuple[WindowSink, _TkWindow]:
    sink = WindowSink()
    sink.start(_frame((0, 0, 0)), Fraction(30), None)
    if not isinstance(sink.window, _TkWindow):
        sink.close()
        pytest.skip("this OpenCV has a GUI: it shows the preview, not Tk")
    return sink, sink.window


def test_frames_are_shown_and_q_stops(display: str) -> None:
    sink, window = _tk_sink()
    sink.write(_frame((200, 40, 10)), 0.0)
    sink.write(_frame((20, 60, 220)), 0.033)
    image = window.label.image  # what the window holds: the last frame, in its colours
    assert (image.width(), image.height()) == (64, 48) and window.shown == 2
    assert tuple(image.get(10, 10)) == (20, 60, 220)
    assert not sink.stop_requested
    window.root.focus_force()
    window.root.event_generate("<Key>", keysym="q", when="tail")
    sink.write(_frame((0, 0, 0)), 0.066)
    assert sink.stop_requested
    sink.close()
    assert sink.window is None


def test_closing_the_window_stops(display: str) -> None:
    sink, window = _tk_sink()
    sink.write(_frame((1, 2, 3)), 0.0)
    window.root.tk.call(window.root.protocol("WM_DELETE_WINDOW"))  # as the window manager does
    sink.write(_frame((1, 2, 3)), 0.033)
    assert sink.stop_requested
    sink.close()


def test_preview_from_the_run(display: str, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    make(str(clip), "160x120", 15, 2.0, audio=False)
    summary = run_live(str(clip), preview=True, frames=10, colorizer=tiny_colorizer(),
                       status=False)
    assert summary.stopped_by == "frames" and summary.frames_out == 10
    assert summary.outputs == ["preview window"]
