"""RTSP from a real server on loopback (GStreamer's gst-rtsp-server, run by the system python3
with python3-gi): colorize from it, kill the server mid-stream, restart it, and check that
vidcolor reconnected and the same output kept growing. Skipped where the server is absent."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import av
import pytest
from servers.helpers import SERVERS, free_port, mjpeg_parts, start, stop, tiny_colorizer
from servers.push import make

from vidcolor.live import SourceSpec, run_live

SYSTEM_PYTHON = "/usr/bin/python3"
pytestmark = pytest.mark.timeout(60)


def _server_available() -> str | None:
    probe = ("import gi; gi.require_version('GstRtspServer', '1.0'); "
             "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
             "assert Gst.ElementFactory.find('h264parse') and Gst.ElementFactory.find('qtdemux')")
    try:
        subprocess.run([SYSTEM_PYTHON, "-c", probe], check=True, capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return ("GStreamer RTSP server missing: apt-get install gir1.2-gst-rtsp-server-1.0 "
                "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad python3-gi")
    return None


if reason := _server_available():
    pytestmark = [pytestmark, pytest.mark.skip(reason=reason)]


def _serve(clip: Path, port: int) -> subprocess.Popen:
    return start([SYSTEM_PYTHON, str(SERVERS / "rtsp_server.py"), str(clip), "--port", str(port),
                  "--audio"])


def test_rtsp_reconnects_and_output_keeps_going(tmp_path: Path) -> None:
    clip = tmp_path / "cam.mp4"
    make(str(clip), "320x240", 10, 20.0, audio=True)
    port, http = free_port(), free_port()
    out = tmp_path / "out.mp4"
    server = _serve(clip, port)
    halt, result = threading.Event(), {}

    def target() -> None:
        try:
            result["summary"] = run_live(
                SourceSpec(f"rtsp://viewer:hunter2@127.0.0.1:{port}/live", open_timeout=2.0,
                           read_timeout=2.0),
                outputs=[str(out)], serve=f"127.0.0.1:{http}", colorizer=tiny_colorizer(),
                reconnect_cap=0.5, give_up_after=20.0, status=False, stop=halt)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    stream = f"http://127.0.0.1:{http}/stream.mjpg"
    try:
        assert len(mjpeg_parts(stream, 10, timeout=20)) == 10  # frames are flowing
        stop(server, kill=True)  # the camera dies mid-stream
        killed = time.monotonic()
        time.sleep(1.5)
        server = _serve(clip, port)  # ... and comes back
        assert len(mjpeg_parts(stream, 15, timeout=20)) == 15
        gap = time.monotonic() - killed
    finally:
        halt.set()
        thread.join(20)
        stop(server)
    if "error" in result:
        raise result["error"]
    summary = result["summary"]
    assert summary.reconnects >= 1 and summary.stopped_by == "stop"
    assert "hunter2" not in summary.source
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
        times = [float(f.time) for f in container.decode(video=0)]
    steps = [b - a for a, b in zip(times, times[1:], strict=False)]
    pause = max(steps)
    assert 1.0 < pause < gap + 1.0  # the outage shows as one gap in the timeline ...
    assert len(times) - steps.index(pause) - 1 >= 10  # ... and frames continue after it
