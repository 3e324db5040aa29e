"""The pipeline's memory stays bounded: by frame count, by bytes for large frames, and over length."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from fractions import Fraction
from types import SimpleNamespace

import av
import numpy as np
import pytest
from test_pipeline_support import (  # noqa: F401  (fixtures)
    cli_env,
    colorizer_fixture,
    tiny_weights_fixture,
)

import vidcolor.pipeline as pipeline
from vidcolor.framecolor import Slot
from vidcolor.io.planes import split_luma
from vidcolor.io.reader import _decoder_threads
from vidcolor.io.writer import _memory_caps, bare_info
from vidcolor.pipeline import QUEUE_BYTES, colorize_video, default_batch
from vidcolor.specs import OutputSpec


def _peak_frames_alive(monkeypatch, src, dst, colorizer, batch: int, pause: float = 0.0) -> int:
    """The most frames prepared but not yet encoded at once in a run. ``pause`` (seconds a
    frame) slows the encoder down, so that the stages before it fill their queues."""
    alive, peak = 0, 0
    lock = threading.Lock()
    real_prepare = pipeline.FrameColor.prepare

    def counting_prepare(self, frame):
        nonlocal alive, peak
        with lock:
            alive += 1
            peak = max(peak, alive)
        return real_prepare(self, frame)

    class CountingWriter(pipeline.VideoWriter):
        def write_frame(self, frame):
            nonlocal alive
            time.sleep(pause)
            with lock:
                alive -= 1
            super().write_frame(frame)

    monkeypatch.setattr(pipeline.FrameColor, "prepare", counting_prepare)
    monkeypatch.setattr(pipeline, "VideoWriter", CountingWriter)
    colorize_video(src, dst, colorizer=colorizer, batch=batch, output=OutputSpec(preset="ultrafast"))
    return peak


def test_memory_stays_bounded_in_flight(tmp_path, make_clip, colorizer, monkeypatch):
    """However long the input, only a few batches of frames are alive at once."""
    src = make_clip(tmp_path / "in.mp4", frames=80, size=(64, 64), audio=True)
    peak = _peak_frames_alive(monkeypatch, src, tmp_path / "out.mp4", colorizer, batch=2)
    assert peak <= 3 * (2 * 2 + 8) + 4  # two queues, a batch and a little slack


def test_frames_over_the_byte_budget_fill_each_queue_with_one_batch(
    tmp_path, make_clip, colorizer, monkeypatch
):
    """Frames larger than a queue's byte budget (as 4K ones are, against the real budget) are
    held a batch per queue, however slow the encoder: not 2 x batch + 8 per queue."""
    monkeypatch.setattr(pipeline, "QUEUE_BYTES", 1)
    src = make_clip(tmp_path / "in.mp4", frames=40, size=(320, 240), audio=True)
    peak = _peak_frames_alive(monkeypatch, src, tmp_path / "out.mp4", colorizer, batch=2,
                              pause=0.02)
    # a batch in each of the three queues, one gathered and two inferred or handed on (one
    # call at a time), and one frame in the hands of the decoder and of the encoder
    assert peak <= 3 * 2 + 2 + 2 * 2 + 2, peak


def _frames_taken(channel: pipeline._Channel, slot: Slot) -> int:
    """How many copies of ``slot`` the queue takes before it is full."""
    taken = 0
    while channel.has_room(slot.nbytes):
        channel.put(slot)
        taken += 1
    return taken


def _slot(width: int, height: int) -> Slot:
    """A frame as the decoder hands it on, with L at the default model size."""
    return Slot(split_luma(av.VideoFrame(width, height, "yuv420p")),
                np.zeros((256, 448), np.float32))


def test_a_queue_holds_fewer_4k_frames_than_480p_ones():
    def queue(budget: int = QUEUE_BYTES, least: int = 4) -> pipeline._Channel:
        return pipeline._Channel(most=16, least=least, budget=budget, stop=threading.Event())

    assert _frames_taken(queue(), _slot(854, 480)) == 16  # the count binds
    taken = _frames_taken(queue(), _slot(1920, 1080))
    assert 4 < taken < 16
    large = _slot(3840, 2160)  # batches of one (pipeline.default_batch)
    assert _frames_taken(queue(least=1), large) == max(1, QUEUE_BYTES // large.nbytes)
    assert _frames_taken(queue(budget=1), large) == 4  # a batch always fits


def test_frames_above_1080p_are_inferred_one_at_a_time_and_decoded_on_two_threads():
    assert default_batch(3840, 2160) == 1
    assert default_batch(1920, 1080) == default_batch(854, 480) == 4

    def stream(width: int, height: int) -> SimpleNamespace:
        return SimpleNamespace(codec_context=SimpleNamespace(width=width, height=height))

    assert _decoder_threads(stream(3840, 2160)) == 2
    assert _decoder_threads(stream(1920, 1080)) == 0  # FFmpeg's choice


def test_x264_and_x265_look_ahead_is_capped_above_1080p_unless_chosen():
    """libx264's default 40-frame look-ahead holds ~1.3 GB of 4K frames: capped at 10 there
    (x265's too), but never over a preset or options the caller chose, nor at 1080p."""
    def caps(width: int, height: int, preset=None, options=None, encoder="libx264"):
        info = bare_info(width, height, Fraction(25), Fraction(1, 25))
        return _memory_caps(encoder, info, preset, options or {})

    assert caps(3840, 2160) == {"rc-lookahead": "10"}
    assert caps(1920, 1080) == {}
    assert caps(3840, 2160, preset="slow") == {}
    assert caps(3840, 2160, options={"preset": "veryfast"}) == {}
    assert caps(3840, 2160, encoder="libx265") == {"x265-params": "rc-lookahead=10"}
    assert caps(3840, 2160, encoder="ffv1") == {}


_FREE_TWICE = """
import sys, numpy as np
from vidcolor.io.heap import map_large_blocks
if sys.argv[1] == "fixed":
    map_large_blocks()
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1])
frame = np.ones(12 << 20, np.uint8)  # a 4K frame's size; freeing it raises glibc's threshold
del frame
before = rss()
frame = np.ones(12 << 20, np.uint8)
del frame
print((rss() - before) / 1024)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_freed_4k_frame_goes_back_to_the_system():
    """Without the fixed threshold the second 12 MB block comes from the heap and stays in
    the process once freed: 4K frames then pile up in the threads' heaps."""
    def kept_mb(mode: str) -> float:
        out = subprocess.run([sys.executable, "-c", _FREE_TWICE, mode], capture_output=True,
                             text=True, env=cli_env(), check=True)
        return float(out.stdout)

    assert kept_mb("fixed") < 2
    assert kept_mb("default") > 8  # what the fix is for, on this libc


def _peak_rss_mb(src, dst, weights) -> float:
    """Peak RSS of a fresh process that colorizes ``src`` through the CLI's main()."""
    code = (
        "import resource, sys; from vidcolor.cli import main; "
        "assert main(sys.argv[1:]) == 0; "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    args = [str(src), "-o", str(dst), "--weights", str(weights), "-q", "--engine", "torch",
            "--size", "64"]
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                            env=cli_env(), timeout=240, check=True)
    return float(result.stdout.split()[-1])


def test_peak_rss_does_not_grow_with_length(tmp_path, make_clip, tiny_weights):
    short = make_clip(tmp_path / "short.mp4", frames=30, size=(256, 144), audio=True)
    long = make_clip(tmp_path / "long.mp4", frames=300, size=(256, 144), audio=True)
    rss_short = _peak_rss_mb(short, tmp_path / "s.mp4", tiny_weights)
    rss_long = _peak_rss_mb(long, tmp_path / "l.mp4", tiny_weights)
    # keeping each extra frame's luma and output frame would add about 25 MB
    assert rss_long - rss_short < 15, (rss_short, rss_long)
