"""Live building blocks without media: redaction, backoff, the newest-wins queue, latency
percentiles, source detection, preview addresses, encoder settings, the output timeline."""

from __future__ import annotations

import logging
import socket

import pytest

from vidcolor.io.errors import OutputError
from vidcolor.io.writer import encoder_options
from vidcolor.live import LiveError, SourceSpec, is_live_source, redact, run_live
from vidcolor.live.backoff import Backoff
from vidcolor.live.http_preview import parse_address
from vidcolor.live.latest import Closed, LatestQueue
from vidcolor.live.sinks import open_sink
from vidcolor.live.source import _Timeline
from vidcolor.live.stats import LatencyHistogram
from vidcolor.specs import TemporalSpec

SECRET = "s3cr3t-pw"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rtsp://admin:s3cr3t-pw@10.0.0.7:554/Streaming/101", "rtsp://***@10.0.0.7:554/Streaming/101"),
        ("open 'rtsp://admin@cam/x' failed", "open 'rtsp://***@cam/x' failed"),
        ("rtmp://a.rtmp.youtube.com/live2/s3cr3t-pw", "rtmp://a.rtmp.youtube.com/live2/***"),
        ("srt://h:9000?mode=caller&passphrase=s3cr3t-pw&latency=20",
         "srt://h:9000?mode=caller&passphrase=***&latency=20"),
        ("https://u:p@h/live.m3u8?token=s3cr3t-pw&x=1", "https://***@h/live.m3u8?token=***&x=1"),
        ("udp://127.0.0.1:5000", "udp://127.0.0.1:5000"),
        ("/dev/video0", "/dev/video0"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="vidcolor.live"):
        logging.getLogger("vidcolor.live").info("lost %s", f"rtsp://u:{SECRET}@cam/1")
    assert SECRET not in caplog.text and "rtsp://***@cam/1" in caplog.text


def test_unreachable_source_gives_up_without_leaking_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from servers.helpers import free_port, tiny_colorizer

    url = f"rtsp://admin:{SECRET}@127.0.0.1:{free_port()}/stream"
    with caplog.at_level(logging.INFO, logger="vidcolor.live"), pytest.raises(LiveError) as err:
        run_live(SourceSpec(url, open_timeout=1.0, read_timeout=1.0), outputs=[], serve=None,
                 give_up_after=1.0, reconnect_cap=0.2, colorizer=tiny_colorizer(),
                 temporal=TemporalSpec("off"), status=False)
    assert SECRET not in str(err.value) and "gave up" in str(err.value)
    assert err.value.summary.stopped_by == "gave up" and SECRET not in err.value.summary.source
    assert "open failed" in caplog.text and SECRET not in caplog.text


def test_backoff_doubles_caps_and_gives_up() -> None:
    backoff = Backoff(initial=0.5, cap=4.0, give_up_after=30.0)
    delays = [backoff.next_delay(now=0.0) for _ in range(6)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff.next_delay(now=28.0) == 2.0  # never sleeps past the deadline
    assert backoff.next_delay(now=30.0) is None
    backoff.reset()
    assert backoff.next_delay(now=100.0) == 0.5


def test_latest_queue_keeps_newest_and_counts_drops() -> None:
    queue: LatestQueue[int] = LatestQueue(2)
    for i in range(5):
        queue.put(i)
    assert queue.dropped == 3
    assert [queue.get(0), queue.get(0), queue.get(0)] == [3, 4, None]
    queue.put(5)
    queue.close()
    assert queue.get(0) == 5
    with pytest.raises(Closed):
        queue.get(0)


def test_latency_percentiles() -> None:
    hist = LatencyHistogram(recent=10)
    assert hist.percentile(50) is None
    for ms in range(1, 101):
        hist.add(ms - 0.5)
    assert hist.percentile(50) == 50 and hist.percentile(95) == 95
    assert hist.recent_percentile(50) == pytest.approx(95.0)  # only the last ten
    hist.add(1e6)  # a stall beyond the histogram still counts
    assert hist.percentile(100) == 10_000 and hist.max_ms == 1e6


@pytest.mark.parametrize(
    ("source", "fmt", "live"),
    [
        ("rtsp://cam/1", None, True), ("RTMP://h/app/k", None, True), ("udp://@:5000", None, True),
        ("srt://h:1", None, True), ("tcp://h:1", None, True), ("https://h/x.m3u8", None, True),
        ("/dev/video0", None, True), ("video=USB Camera", None, True), ("0", "avfoundation", True),
        ("film.mp4", None, False), ("/data/clip.mkv", None, False), ("file:///x.mp4", None, False),
    ],
)
def test_is_live_source(source: str, fmt: str | None, live: bool) -> None:
    assert is_live_source(source, fmt) is live


def test_only_a_reachable_web_video_with_a_duration_plays_to_an_end(tmp_path) -> None:
    """The CLI colorizes such a URL as a file (test_cli); anything else stays live."""
    from vidcolor.live import plays_to_an_end

    assert not plays_to_an_end("rtsp://127.0.0.1:9/cam")  # not probed: live by its scheme
    assert not plays_to_an_end(str(tmp_path / "film.mp4"))
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the live path reports it or waits for it
    assert not plays_to_an_end(f"http://127.0.0.1:{port}/film.mp4", timeout=2)


def test_parse_address_defaults_to_localhost() -> None:
    assert parse_address("8080") == ("127.0.0.1", 8080)
    assert parse_address(":8080") == ("127.0.0.1", 8080)
    assert parse_address("0.0.0.0:81") == ("0.0.0.0", 81)
    with pytest.raises(ValueError):
        parse_address("localhost:http")


def test_encoder_options_are_low_latency_for_restreams() -> None:
    assert encoder_options("libx264", True, None, None) == {
        "preset": "ultrafast", "crf": "23", "tune": "zerolatency"}
    assert "tune" not in encoder_options("libx264", False, 18, None)
    nvenc = encoder_options("h264_nvenc", True, None, None)
    assert nvenc["preset"] == "p1" and nvenc["tune"] == "ull" and nvenc["zerolatency"] == "1"


def test_timeline_continues_across_reconnects_and_jumps() -> None:
    first = _Timeline(session_start=100.0, last=0.0)
    assert first.map(5.0, now=100.0) == 0.0
    assert first.map(6.0, now=101.1) == pytest.approx(1.0)  # source time, not arrival jitter
    assert first.map(None, now=102.0) == pytest.approx(2.0)  # no timestamp: the clock
    assert first.map(0.0, now=102.1) == pytest.approx(2.1)  # source restarted: re-anchored
    second = _Timeline(session_start=100.0, last=2.1)
    assert second.map(3.0, now=101.0) == pytest.approx(2.1)  # never backwards


def test_timeline_keeps_frames_flushed_after_a_loss_at_their_own_time() -> None:
    """A lost connection's decoder gives its last frames back when the read times out,
    seconds late: they belong just after the frames before them, not at the timeout."""
    line = _Timeline(session_start=100.0, last=0.0)
    assert line.map(10.0, now=100.0) == 0.0
    assert line.map(10.04, now=100.04) == pytest.approx(0.04)
    assert line.map(10.08, now=105.1) == pytest.approx(0.08)  # flushed at the 5-s timeout


def test_segments_of_an_earlier_run_need_overwrite(tmp_path) -> None:
    (tmp_path / "cam_00003.mp4").write_bytes(b"earlier")
    with pytest.raises(OutputError, match="-y"):
        open_sink(str(tmp_path / "cam.mp4"), segment_seconds=2.0)
    open_sink(str(tmp_path / "cam.mp4"), segment_seconds=2.0, overwrite=True).close()
    open_sink(str(tmp_path / "other.mp4"), segment_seconds=2.0).close()
    assert (tmp_path / "cam_00003.mp4").read_bytes() == b"earlier"  # nothing written yet


def test_a_protocol_nobody_here_speaks_is_one_clear_error(monkeypatch) -> None:
    import av

    from vidcolor.live import relay

    if relay.pyav_has_protocol("srt"):
        pytest.skip("this PyAV build speaks SRT itself")
    monkeypatch.setattr(relay.shutil, "which", lambda _name: None)
    relay.ffmpeg_with.cache_clear()
    try:
        with pytest.raises(av.error.ProtocolNotFoundError, match="install ffmpeg"):
            relay.relay_command("srt")
    finally:
        relay.ffmpeg_with.cache_clear()
