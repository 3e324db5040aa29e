"""Live outputs without a live source: ``open_sink`` picks one class per target; a file sink
writes what it was given (frames re-stamped on the session timeline, the feed's audio
copied, a reconnect's repeats and another stream's packets left out); a restream whose
receiver is not there yet retries until it is."""

from __future__ import annotations

import json
import logging
import select
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import pytest
from servers.helpers import SERVERS, free_port, start, stop

from vidcolor.live.file_sink import FileSink
from vidcolor.live.restream_sink import RestreamSink
from vidcolor.live.segment_sink import SegmentSink
from vidcolor.live.sinks import open_sink
from vidcolor.live.source import AudioPacket, audio_signature


@pytest.mark.parametrize(
    ("target", "segment_seconds", "kind"),
    [
        ("rtsp://cam/live", None, RestreamSink), ("rtmp://h/app/key", 5.0, RestreamSink),
        ("udp://127.0.0.1:5000", None, RestreamSink), ("srt://h:9000", None, RestreamSink),
        ("tcp://127.0.0.1:9000", None, RestreamSink), ("out.mp4", None, FileSink),
        ("out.mkv", 5.0, SegmentSink),
    ],
)
def test_open_sink_picks_the_class_for_the_target(
    tmp_path: Path, target: str, segment_seconds: float | None, kind: type
) -> None:
    if "://" not in target:
        target = str(tmp_path / target)
    sink = open_sink(target, segment_seconds=segment_seconds)
    try:
        assert type(sink) is kind
    finally:
        sink.close()  # never started: nothing to write, nothing left behind
    assert not list(tmp_path.iterdir())


def test_file_sink_writes_frames_and_copies_audio(make_clip, tmp_path: Path) -> None:
    feed = make_clip(tmp_path / "feed.ts", frames=24, fps=24)  # MPEG-TS: ADTS AAC, as live
    with av.open(str(feed)) as container:
        frames = list(container.decode(video=0))
    container = av.open(str(feed))
    audio = container.streams.audio[0]
    packets = [p for p in container.demux(audio) if p.dts is not None]
    origin = packets[0].pts * packets[0].time_base
    timed = [AudioPacket(p, float(p.pts * p.time_base - origin), float(p.duration * p.time_base),
                         audio_signature(audio)) for p in packets]

    out = tmp_path / "live.mp4"
    sink = open_sink(str(out))
    sink.start(frames[0], Fraction(24), audio)
    for i, frame in enumerate(frames):
        if i == 12:  # a reconnect brought a smaller picture
            frame = frame.reformat(80, 48)
        sink.write(frame, i / 24)
    for packet in [*timed, timed[-2]]:  # the last but one again: a reconnect's repeat
        sink.write_audio(packet)
    sink.write_audio(AudioPacket(packets[0], 9.0, 0.064, ("mp3", 44100, 2)))  # other stream
    container.close()
    sink.close()

    assert [p.name for p in tmp_path.iterdir()] == sorted(["feed.ts", "live.mp4"])
    with av.open(str(out)) as result:
        video, sound = result.streams.video[0], result.streams.audio[0]
        assert (video.width, video.height, sound.codec_context.name) == (160, 96, "aac")
        assert len(list(result.decode(video=0))) == 24
        result.seek(0)
        stamps = [p.pts for p in result.demux(audio=0) if p.size]
    assert len(stamps) == len(packets) and stamps == sorted(set(stamps))


@pytest.mark.timeout(60)
def test_restream_retries_until_the_receiver_listens(
    make_clip, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with av.open(str(make_clip(tmp_path / "feed.mp4", frames=24, audio=False))) as container:
        frames = list(container.decode(video=0))
    target = f"tcp://127.0.0.1:{free_port()}"
    sink = open_sink(target, retry_cap=0.2, timeout=2.0)
    with caplog.at_level(logging.WARNING, logger="vidcolor.live"):
        sink.start(frames[0], Fraction(24), None)  # nobody listens: retried, not raised
        assert "retrying" in caplog.text
        receiver = start([sys.executable, str(SERVERS / "receive.py"), target, "--listen"])
        try:
            deadline, i = time.monotonic() + 30, 0
            while time.monotonic() < deadline and not select.select([receiver.stdout], [], [], 0)[0]:
                sink.write(frames[i % len(frames)], i / 24)
                i += 1
                time.sleep(1 / 24)
            line = receiver.stdout.readline()
        finally:
            sink.close()
            stop(receiver)
    assert "resumed" in caplog.text
    assert json.loads(line)["frames"] == 10


def test_outputs_without_a_codec_get_their_containers(tmp_path):
    from vidcolor.specs import OutputSpec

    webm = open_sink(str(tmp_path / "cam.webm"), OutputSpec())
    mp4 = open_sink(str(tmp_path / "cam.mp4"), OutputSpec())
    assert webm.codec == "libvpx-vp9" and mp4.codec == "libx264"
    stream = open_sink("udp://127.0.0.1:9", OutputSpec())
    assert stream.codec == "libx264"
    for sink in (webm, mp4, stream):
        sink.close()
