"""Live runs against real helpers on loopback: an MPEG-TS/UDP feed pushed by a second process
(and by a plain ``ffmpeg`` command with x264's long GOP), the HTTP MJPEG preview read by urllib,
restreams received by FFmpeg's own UDP/RTMP/RTSP listeners, segments, and SIGTERM through the
``vidcolor`` command line."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from servers.helpers import SERVERS, free_port, mjpeg_parts, push_cmd, start, stop, tiny_colorizer
from servers.push import make

from vidcolor.live import LiveError, SourceSpec, run_live
from vidcolor.specs import TemporalSpec

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("live") / "feed.mp4"
    make(str(path), "320x240", 15, 4.0, audio=True)
    return path


@pytest.fixture(scope="module")
def colorizer():
    return tiny_colorizer()


@pytest.fixture
def feed(clip: Path):
    """udp://127.0.0.1:PORT carrying the clip in a loop, pushed by another process."""
    url = f"udp://127.0.0.1:{free_port(socket.SOCK_DGRAM)}"
    proc = start(push_cmd(clip, url, "--loop"))
    yield url
    stop(proc)


def _background(**kwargs) -> tuple[threading.Thread, dict, threading.Event]:
    result: dict = {}
    halt = kwargs.setdefault("stop", threading.Event())

    def target() -> None:
        try:
            result["summary"] = run_live(**kwargs)
        except BaseException as exc:  # surfaced by the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result, halt


def _finish(thread: threading.Thread, result: dict, halt: threading.Event):
    halt.set()
    thread.join(20)
    assert not thread.is_alive(), "run_live did not stop"
    if "error" in result:
        raise result["error"]
    return result["summary"]


def _chroma_spread(frame: av.VideoFrame) -> float:
    yuv = frame.to_ndarray(format="yuv420p")
    return float(yuv[frame.height :].astype(np.float32).std())


def _served_url(capsys: pytest.CaptureFixture, timeout: float = 15.0) -> str:
    """The preview URL from the one line a run prints on stderr when it serves."""
    deadline, seen = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        seen += capsys.readouterr().err
        if match := re.search(r"^vidcolor: serving preview at (http://\S+/)$", seen, re.M):
            return match.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no preview URL on stderr: {seen!r}")


def _css(page: str) -> dict[str, dict[str, str]]:
    """The page's style sheet: selector -> {property: value}."""
    sheet = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    return {selector.strip(): dict(tuple(p.strip() for p in d.split(":", 1))
                                   for d in body.split(";") if d.strip())
            for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", sheet)}


def test_udp_to_file_with_audio_and_http_preview(feed: str, colorizer, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "live.mp4"
    thread, result, halt = _background(
        source=feed, outputs=[str(out)], serve="127.0.0.1:0", frames=45,
        colorizer=colorizer, status=False)
    url = _served_url(capsys)  # the port the system picked
    assert re.fullmatch(r"http://127\.0\.0\.1:[1-9]\d*/", url)
    parts = mjpeg_parts(f"{url}stream.mjpg", 3)
    page = urllib.request.urlopen(url, timeout=5).read().decode()
    assert '<img src="/stream.mjpg"' in page
    css = _css(page)  # the picture fills the window, up or down, keeping its aspect
    assert css["html,body"]["margin"] == "0" and css["html,body"]["height"] == "100%"
    assert css["img"]["width"] == css["img"]["height"] == "100%"
    assert css["img"]["object-fit"] == "contain" and "max-width" not in css["img"]
    for headers, body in parts:
        assert headers["content-type"] == "image/jpeg"
        assert body[:2] == b"\xff\xd8" and body[-2:] == b"\xff\xd9"
        image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (240, 320, 3)
    thread.join(30)
    summary = _finish(thread, result, halt)
    assert summary.stopped_by == "frames" and summary.frames_out == 45
    assert summary.latency_ms_p95 is not None and summary.audio_packets > 0
    with av.open(str(out)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 320, 240)
        assert audio.codec_context.name == "aac"
        frames = list(container.decode(video=0))
        assert len(frames) == 45
        assert _chroma_spread(frames[-1]) > 0.5  # coloured, not gray
        times = [f.time for f in frames]
        assert times == sorted(times) and times[-1] - times[0] > 2.0
    assert not list(tmp_path.glob(".*"))  # no temporary file left


@pytest.mark.parametrize("scheme", ["udp", "rtmp", "rtsp"])
def test_restream_reaches_a_real_receiver(feed: str, colorizer, scheme: str) -> None:
    port = free_port(socket.SOCK_DGRAM if scheme == "udp" else socket.SOCK_STREAM)
    target = {"udp": f"udp://127.0.0.1:{port}", "rtmp": f"rtmp://127.0.0.1:{port}/live/key",
              "rtsp": f"rtsp://127.0.0.1:{port}/live"}[scheme]
    receiver = start([sys.executable, str(SERVERS / "receive.py"), target, "--listen"])
    time.sleep(0.5)  # the listener must be up before the publisher connects (it would retry)
    thread, result, halt = _background(source=feed, outputs=[target], colorizer=colorizer,
                                       status=False)
    try:
        line = receiver.stdout.readline()  # blocks until the receiver has its frames
    finally:
        summary = _finish(thread, result, halt)
        receiver.wait(5)
        errors = receiver.stderr.read()
        stop(receiver)
    assert line, errors
    got = json.loads(line)
    assert got["frames"] == 10 and (got["width"], got["height"]) == (320, 240)
    assert got["chroma_spread"] > 0.5
    assert got["audio"] == ["aac"]  # RTSP: the feed's ADTS AAC re-encoded with a global header
    assert got["audio_frames"] > 0
    assert summary.frames_out >= 10


def test_http_mjpeg_source_from_another_preview(feed: str, colorizer, tmp_path: Path) -> None:
    """An http:// MJPEG camera, here played by a second run's own preview server."""
    port = free_port()
    thread, result, halt = _background(source=feed, serve=f"127.0.0.1:{port}",
                                       colorizer=colorizer, status=False)
    try:
        mjpeg_parts(f"http://127.0.0.1:{port}/stream.mjpg", 1)
        summary = run_live(f"http://127.0.0.1:{port}/stream.mjpg",
                           outputs=[str(tmp_path / "relay.mkv")], frames=15,
                           colorizer=colorizer, temporal=TemporalSpec("off"), status=False)
    finally:
        _finish(thread, result, halt)
    assert summary.frames_out == 15
    with av.open(str(tmp_path / "relay.mkv")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 15


def test_segments(feed: str, colorizer, tmp_path: Path) -> None:
    summary = run_live(feed, outputs=[str(tmp_path / "cam.mp4")], segment_seconds=1.0,
                       frames=50, colorizer=colorizer, status=False)
    pieces = sorted(tmp_path.glob("cam_*.mp4"))
    assert summary.frames_out == 50 and len(pieces) >= 2
    counts = []
    for piece in pieces:
        with av.open(str(piece)) as container:
            counts.append(sum(1 for _ in container.decode(video=0)))
    assert sum(counts) == 50 and all(counts)


@pytest.mark.timeout(120)  # ~10 s idle; a fresh interpreter importing torch on a busy machine
def test_command_line_sigterm_finalizes(feed: str, tmp_path: Path) -> None:
    from servers.helpers import tiny_weights

    weights = tiny_weights(tmp_path / "tiny.safetensors")
    out, port = tmp_path / "cam.mp4", free_port()
    cmd = [sys.executable, "-m", "vidcolor.cli", feed, "-o", str(out), "--weights", str(weights),
           "--engine", "torch", "--device", "cpu", "--size", "64", "--serve", str(port), "--json",
           "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        mjpeg_parts(f"http://127.0.0.1:{port}/stream.mjpg", 10, timeout=90)  # frames flow
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert '"stopped_by": "signal"' in stdout
    assert f"vidcolor: serving preview at http://127.0.0.1:{port}/" in stderr.splitlines()
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) >= 10


PUSH_SECONDS, PUSH_FPS = 6, 25  # 150 frames: under x264's default GOP, so one keyframe only


@pytest.fixture(scope="module")
def long_gop_push(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The plain push users send: ``ffmpeg -re -i clip -c:v libx264 -f mpegts URL`` (x264's
    default 250-frame GOP; the clip's AAC becomes MPEG-TS's default MP2); the URL goes last."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("no ffmpeg command on PATH")
    clip = tmp_path_factory.mktemp("push") / "in.mkv"
    make(str(clip), "320x240", PUSH_FPS, PUSH_SECONDS, audio=True)
    return [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-i", str(clip),
            "-c:v", "libx264", "-f", "mpegts"]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("sender_first", [False, True], ids=["vidcolor-first", "sender-first"])
def test_long_gop_push_is_colorized_from_its_first_keyframe(
    long_gop_push: list[str], colorizer, tmp_path: Path, sender_first: bool,
) -> None:
    """Every frame sent is decoded (the clip's only keyframe is its first), the recording
    starts with the push, and a run whose ``frames`` is never reached ends by the reconnect
    policy soon after the sender stops."""
    url = f"udp://127.0.0.1:{free_port(socket.SOCK_DGRAM)}"
    out, sent = tmp_path / "push.mp4", PUSH_SECONDS * PUSH_FPS
    pusher = subprocess.Popen([*long_gop_push, url]) if sender_first else None
    thread, result, halt = _background(
        source=SourceSpec(url, read_timeout=1.0), outputs=[str(out)], frames=10 * sent,
        give_up_after=4.0, colorizer=colorizer, status=False)
    try:
        if pusher is None:
            time.sleep(0.5)  # vidcolor listens
            pusher = subprocess.Popen([*long_gop_push, url])
        assert pusher.wait(30) == 0
        thread.join(10)  # silence for read_timeout, then 4 s of reconnecting
        assert not thread.is_alive(), "the run outlived the reconnect policy"
    finally:
        if pusher is not None and pusher.poll() is None:
            pusher.kill()
            pusher.wait()
        halt.set()
    with pytest.raises(LiveError, match="gave up") as gave_up:
        _finish(thread, result, halt)
    summary = gave_up.value.summary
    assert summary.stopped_by == "gave up" and summary.frames_in >= 0.9 * sent
    assert summary.frames_out + summary.dropped == summary.frames_in
    assert summary.audio_packets > 0
    with av.open(str(out)) as container:
        assert len(container.streams.audio) == 1  # the push's MP2 (MPEG-TS's default), copied
        times = [frame.time for frame in container.decode(video=0)]
    assert len(times) == summary.frames_out
    # the newest frame always reaches the sinks, so the recording ends with the push's last:
    assert times[-1] - times[0] >= PUSH_SECONDS - 1.0  # it began within a second of the push


@pytest.mark.skipif(not Path("/proc/net/udp").is_file(), reason="reads Linux's /proc/net/udp")
def test_udp_source_keeps_its_port_while_it_waits_for_a_sender(colorizer) -> None:
    """Each timed-out wait is followed at once by the next: no backoff pause in which a
    sender's first datagrams, its first keyframe among them, would find the port closed."""
    port = free_port(socket.SOCK_DGRAM)
    thread, result, halt = _background(
        source=SourceSpec(f"udp://127.0.0.1:{port}", open_timeout=0.3, read_timeout=0.3),
        give_up_after=2.5, colorizer=colorizer, status=False)
    ever_bound, closed_since, gaps = False, None, []
    while thread.is_alive():
        bound, now = _udp_port_bound(port), time.monotonic()
        if ever_bound and not bound and closed_since is None:
            closed_since = now
        elif bound and closed_since is not None:
            gaps.append(now - closed_since)
            closed_since = None
        ever_bound |= bound
        time.sleep(0.005)
    with pytest.raises(LiveError, match="gave up"):
        _finish(thread, result, halt)
    assert ever_bound and max(gaps, default=0.0) < 0.2, gaps


def _udp_port_bound(port: int) -> bool:
    with open("/proc/net/udp") as table:
        next(table)
        return any(line.split()[1].endswith(f":{port:04X}") for line in table)


def _ffmpeg_for_srt() -> str:
    """The ffmpeg command (with SRT, as Debian's), for peers PyAV cannot play."""
    from vidcolor.live.relay import ffmpeg_with

    exe = ffmpeg_with("srt")
    if exe is None:
        pytest.skip("no ffmpeg command with SRT (apt install ffmpeg)")
    return exe


def test_srt_in_and_out_through_real_ffmpeg_peers(clip: Path, colorizer, tmp_path: Path) -> None:
    """SRT both ways: an ffmpeg listener serves the clip, vidcolor calls it and restreams to
    a second ffmpeg listener that records what arrives."""
    ffmpeg = _ffmpeg_for_srt()
    src, dst = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    recorded = tmp_path / "received.ts"
    quiet = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin"]
    server = subprocess.Popen([*quiet, "-re", "-stream_loop", "-1", "-i", str(clip), "-c", "copy",
                               "-f", "mpegts", f"srt://127.0.0.1:{src}?mode=listener"],
                              stderr=subprocess.PIPE)
    receiver = subprocess.Popen([*quiet, "-i", f"srt://127.0.0.1:{dst}?mode=listener", "-map", "0",
                                 "-c", "copy", "-frames:v", "20", "-y", str(recorded)],
                                stderr=subprocess.PIPE)
    time.sleep(0.5)  # both listeners up; vidcolor's reconnect would cover a slower start
    try:
        summary = run_live(f"srt://127.0.0.1:{src}", outputs=[f"srt://127.0.0.1:{dst}"],
                           frames=40, colorizer=colorizer, status=False)
        receiver.wait(10)
    finally:
        stop(server)
        stop(receiver)
    assert summary.frames_out == 40 and summary.audio_packets > 0
    with av.open(str(recorded)) as container:
        assert [s.codec_context.name for s in container.streams.audio] == ["aac"]
        frames = list(container.decode(video=0))
    assert len(frames) == 20 and (frames[-1].width, frames[-1].height) == (320, 240)
    assert _chroma_spread(frames[-1]) > 0.5


def _rtmp_server(clip: Path, url: str) -> subprocess.Popen:
    """ffmpeg as a one-client RTMP server (PyAV cannot pass ``listen`` to an output's I/O)."""
    ffmpeg = _ffmpeg_for_srt()
    return subprocess.Popen([ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
                             "-stream_loop", "-1", "-i", str(clip), "-c", "copy", "-f", "flv",
                             "-listen", "1", url], stderr=subprocess.PIPE)


@pytest.mark.parametrize("scheme", ["rtmp", "tcp"])
def test_pull_from_a_server_and_restream_over_tcp(clip: Path, colorizer, scheme: str) -> None:
    """A player's view: RTMP and TCP sources served by another process (it listens, vidcolor
    connects), restreamed as MPEG-TS over TCP to a listening receiver."""
    port, back = free_port(), free_port()
    url = {"rtmp": f"rtmp://127.0.0.1:{port}/live/key", "tcp": f"tcp://127.0.0.1:{port}"}[scheme]
    pushed = scheme == "tcp"
    server = start(push_cmd(clip, url, "--loop", "--listen")) if pushed else _rtmp_server(clip, url)
    receiver = start([sys.executable, str(SERVERS / "receive.py"), f"tcp://127.0.0.1:{back}",
                      "--listen"])
    time.sleep(0.5)
    try:
        summary = run_live(url, outputs=[f"tcp://127.0.0.1:{back}"], frames=30,
                           colorizer=colorizer, status=False)
        line = receiver.stdout.readline()
    finally:
        stop(server)
        stop(receiver)
    assert summary.frames_out == 30 and summary.audio_packets > 0
    got = json.loads(line)
    assert got["frames"] == 10 and got["audio"] == ["aac"] and got["chroma_spread"] > 0.5


def test_hls_over_http(clip: Path, colorizer, tmp_path: Path) -> None:
    """An HLS playlist and its segments served by a real HTTP server."""
    import functools
    import http.server

    folder = tmp_path / "hls"
    folder.mkdir()
    with av.open(str(clip)) as source, av.open(str(folder / "cam.m3u8"), "w", format="hls",
                                               options={"hls_time": "1"}) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in source.streams}
        for packet in source.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        summary = run_live(f"http://127.0.0.1:{server.server_port}/cam.m3u8",
                           outputs=[str(tmp_path / "hls.mp4")], colorizer=colorizer, status=False)
    finally:
        server.shutdown()
    # played in real time (4 s at 15 fps); a busy machine may drop a few, but counts them
    assert summary.stopped_by == "source ended" and summary.frames_in == 60
    assert summary.frames_out + summary.dropped == 60 and summary.frames_out >= 30
    with av.open(str(tmp_path / "hls.mp4")) as container:
        assert [s.codec_context.name for s in container.streams.audio] == ["aac"]
        assert sum(1 for _ in container.decode(video=0)) == summary.frames_out
