"""The streaming pipeline end to end on generated clips: timing, sound and luma survive."""

from __future__ import annotations

import threading
import time
from fractions import Fraction

import av
import numpy as np
import pytest
from test_pipeline_support import (  # noqa: F401  (fixtures)
    colorizer_fixture,
    leftovers,
    luma_planes,
    psnr,
    tiny_weights_fixture,
)

from vidcolor.pipeline import STAGES, colorize_video
from vidcolor.progress import NullProgress
from vidcolor.specs import LookSpec, OutputSpec, TemporalSpec


def test_default_encode_keeps_frames_timestamps_audio_and_luma(
    tmp_path, make_clip, packet_digest, video_pts, colorizer
):
    src = make_clip(tmp_path / "in.mp4", frames=30, size=(160, 96))
    dst = tmp_path / "out.mp4"
    stats = colorize_video(src, dst, colorizer=colorizer)

    assert stats.frames == 30
    assert video_pts(dst) == video_pts(src)
    assert packet_digest(dst, "audio") == packet_digest(src, "audio")
    assert stats.packets_copied == packet_digest(src, "audio")[0]
    assert min(psnr(a, b) for a, b in zip(luma_planes(src), luma_planes(dst), strict=True)) >= 40
    summary = stats.to_dict()
    assert set(summary["ms_per_frame"]) == set(STAGES)
    assert summary["corrupt_frames_skipped"] == 0 and summary["output"] == str(dst)
    assert leftovers(tmp_path, {"in.mp4", "out.mp4"}) == []


@pytest.mark.parametrize(
    ("suffix", "codec", "crf"), [(".mkv", "ffv1", None), (".mp4", "libx264", 0)]
)
def test_luma_is_bit_exact_when_lossless(tmp_path, make_clip, colorizer, suffix, codec, crf):
    src = make_clip(tmp_path / f"in{suffix}", frames=12, size=(96, 64))
    dst = tmp_path / f"out{suffix}"
    colorize_video(src, dst, colorizer=colorizer, output=OutputSpec(codec=codec, crf=crf))
    src_y, dst_y = luma_planes(src), luma_planes(dst)
    assert len(src_y) == len(dst_y) == 12
    for a, b in zip(src_y, dst_y, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("pix_fmt", "codec", "crf", "stored"), [
    ("yuv422p10le", "ffv1", None, "yuv422p10le"),  # an archive's 10-bit 4:2:2 scan
    ("gray12le", "ffv1", None, "yuv420p12le"),
    ("yuv420p10le", "libx264", 18, "yuv420p10le"),  # High 10, as ffmpeg makes it
])
def test_deep_luma_is_kept_at_its_own_depth(tmp_path, make_clip, colorizer, pix_fmt, codec,
                                            crf, stored):
    """A 10-bit source came out 8-bit whatever the encoder: two bits of every luma sample lost,
    lossless encoders included. The output is now as deep, its luma the input's codes."""
    src = make_clip(tmp_path / "in.mkv", frames=6, size=(96, 64), codec="ffv1", pix_fmt=pix_fmt,
                    audio=False)
    dst = tmp_path / "out.mkv"
    colorize_video(src, dst, colorizer=colorizer, output=OutputSpec(codec=codec, crf=crf))

    (formats, src_y), (stored_as, dst_y) = deep_lumas(src), deep_lumas(dst)
    assert set(formats) == {pix_fmt} and set(stored_as) == {stored} and len(dst_y) == 6
    for a, b in zip(src_y, dst_y, strict=True):
        if codec == "ffv1":
            np.testing.assert_array_equal(a, b)
        else:  # x264 at CRF 18 (lossless at 10 bits only with qp 0): as close as at 8 bits
            error = np.mean((a.astype(float) - b) ** 2)
            assert 10 * np.log10(1023**2 / error) >= 40
        assert len(np.unique(b & 3)) > 1  # not 8-bit codes shifted up


def test_a_negative_and_a_review_of_a_deep_source_stay_deep(tmp_path, make_clip, colorizer):
    """Steps that change the luma (--negative here) build it from their own 8-bit result, and
    --side-by-side's gray | colour halves are joined at 8 bits: both still written 10-bit."""
    src = make_clip(tmp_path / "in.mkv", frames=3, size=(96, 64), codec="ffv1",
                    pix_fmt="yuv420p10le", audio=False)
    ffv1 = OutputSpec(codec="ffv1")
    colorize_video(src, tmp_path / "neg.mkv", colorizer=colorizer, output=ffv1,
                   look=LookSpec(negative=True))
    colorize_video(src, tmp_path / "review.mkv", colorizer=colorizer, output=ffv1,
                   side_by_side=True)
    (_, src_y), (formats, neg_y) = deep_lumas(src), deep_lumas(tmp_path / "neg.mkv")
    assert set(formats) == {"yuv420p10le"}
    for a, b in zip(src_y, neg_y, strict=True):  # the inverse, within one 8-bit level
        assert np.abs((a.astype(int) - 64) - (940 - b.astype(int))).max() <= 4
    formats, review_y = deep_lumas(tmp_path / "review.mkv")
    assert set(formats) == {"yuv420p10le"} and review_y[0].shape == (64, 192)
    assert np.abs(review_y[0][:, :96].astype(int) - src_y[0]).max() <= 2  # the gray half


def test_a_deep_rgb_scan_keeps_its_depth(tmp_path, make_clip, colorizer):
    """An RGB scan (FFV1 gbrp10le, as archives store DPX) went through 8-bit YUV; it is made
    16-bit YUV, and written at its own 10 bits."""
    src = make_clip(tmp_path / "in.mkv", frames=2, size=(96, 64), codec="ffv1",
                    pix_fmt="gbrp10le", audio=False)
    colorize_video(src, tmp_path / "out.mkv", colorizer=colorizer,
                   output=OutputSpec(codec="ffv1"))
    formats, out_y = deep_lumas(tmp_path / "out.mkv")
    with av.open(str(src)) as container:
        rgb = next(container.decode(video=0)).to_ndarray(format="rgb48le")
    r, g, b = (rgb[..., i].astype(float) / 65535 for i in range(3))
    expected = 64 + (0.299 * r + 0.587 * g + 0.114 * b) * 876  # BT.601, limited, 10-bit codes
    assert set(formats) == {"yuv420p10le"}
    assert np.abs(out_y[0] - expected).max() < 4  # within one 8-bit level (swscale rounds)
    assert len(np.unique(out_y[0] & 3)) > 1


def deep_lumas(path):
    """Formats and luma planes (16-bit codes as stored) of every frame of a deep video."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return [f.format.name for f in frames], [
        np.frombuffer(memoryview(f.planes[0]), "<u2").reshape(f.height, -1)[:, :f.width]
        for f in frames]


def test_output_has_chroma(tmp_path, make_clip, colorizer):
    """The frames carry the model's chroma, not the input's and not neutral gray."""
    src = make_clip(tmp_path / "in.mkv", frames=4, size=(96, 64))
    dst = tmp_path / "out.mkv"
    colorize_video(src, dst, colorizer=colorizer, output=OutputSpec(codec="ffv1"),
                   temporal=TemporalSpec("off"))
    with av.open(str(dst)) as out:
        frame = next(out.decode(video=0))
    cb = np.frombuffer(memoryview(frame.planes[1]), np.uint8)
    assert np.abs(cb.astype(int) - 128).max() > 0


def test_vfr_rotation_and_subtitles_are_kept(
    tmp_path, make_clip, packet_digest, video_pts, colorizer
):
    src = make_clip(tmp_path / "in.mkv", frames=18, vfr=True, rotation=90, subtitles=True)
    dst = tmp_path / "out.mkv"
    colorize_video(src, dst, colorizer=colorizer, temporal=TemporalSpec("bidirectional"))
    assert video_pts(dst) == video_pts(src)
    gaps = {b - a for a, b in zip(video_pts(dst), video_pts(dst)[1:], strict=False)}
    assert len(gaps) > 1  # still variable
    assert packet_digest(dst, "subtitle") == packet_digest(src, "subtitle")
    assert packet_digest(dst, "audio") == packet_digest(src, "audio")
    with av.open(str(dst)) as out:
        assert next(out.decode(video=0)).rotation == 90


@pytest.mark.parametrize(("frames", "duration", "expected"), [(7, None, 7), (None, 0.5, 12)])
def test_frames_and_duration_limits(tmp_path, make_clip, video_pts, colorizer, frames,
                                    duration, expected):
    src = make_clip(tmp_path / "in.mp4", frames=30, fps=24)
    dst = tmp_path / "out.mp4"
    stats = colorize_video(src, dst, colorizer=colorizer, frames=frames, duration=duration)
    assert stats.frames == expected
    assert video_pts(dst) == video_pts(src)[:expected]
    assert max(video_pts(dst)) < Fraction(1, 1) * expected / 24 + Fraction(1, 24)


def _fail_on_call(n: int, real):
    """``real``, except that its n-th call raises."""
    calls = 0

    def wrapper(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == n:
            raise RuntimeError("stage exploded")
        return real(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize("stage", ["decode", "infer", "encode"])
def test_a_failing_stage_raises_and_leaves_nothing(tmp_path, make_clip, colorizer, monkeypatch,
                                                   stage):
    import vidcolor.pipeline as pipeline

    if stage == "decode":
        prepare = pipeline.FrameColor.prepare
        monkeypatch.setattr(pipeline.FrameColor, "prepare", _fail_on_call(5, prepare))
    elif stage == "infer":
        monkeypatch.setattr(colorizer, "infer", _fail_on_call(2, colorizer.infer))
    else:
        write = pipeline.VideoWriter.write_frame
        monkeypatch.setattr(pipeline.VideoWriter, "write_frame", _fail_on_call(3, write))
    src = make_clip(tmp_path / "in.mp4", frames=30)
    before = threading.active_count()
    with pytest.raises(RuntimeError, match="stage exploded"):
        colorize_video(src, tmp_path / "out.mp4", colorizer=colorizer, batch=2)
    assert threading.active_count() == before
    assert leftovers(tmp_path, {"in.mp4"}) == []


class _Concurrent:
    """An engine whose concurrent calls finish out of order (random delays), and that counts
    how many ran at once."""

    def __init__(self, engine, calls: int) -> None:
        self.engine, self.concurrent_calls = engine, calls
        self.name, self.device, self.dtype = engine.name, engine.device, engine.dtype
        self.running = self.most = 0
        self._lock = threading.Lock()
        self._rng = np.random.default_rng(0)

    def infer(self, L):
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            delay = float(self._rng.uniform(0, 0.03))
        time.sleep(delay)
        try:
            return self.engine.infer(L)
        finally:
            with self._lock:
                self.running -= 1


def test_concurrent_inference_keeps_frames_and_packets_in_order(
        tmp_path, make_clip, packet_digest, video_pts, colorizer):
    from vidcolor import Colorizer

    src = make_clip(tmp_path / "in.mkv", frames=40, size=(96, 64), codec="ffv1")
    one, many = tmp_path / "one.mkv", tmp_path / "many.mkv"
    colorize_video(src, one, colorizer=colorizer, batch=2, output=OutputSpec(codec="ffv1"))
    engine = _Concurrent(colorizer.engine, calls=3)
    stats = colorize_video(src, many, colorizer=Colorizer(engine, size=colorizer.size), batch=2,
                           output=OutputSpec(codec="ffv1"))
    assert stats.frames == 40 and engine.most >= 2
    assert video_pts(many) == video_pts(src)
    assert packet_digest(many, "audio") == packet_digest(src, "audio")
    with av.open(str(one)) as a, av.open(str(many)) as b:
        for fa, fb in zip(a.decode(video=0), b.decode(video=0), strict=True):
            np.testing.assert_array_equal(fa.to_ndarray(), fb.to_ndarray())


def test_a_failing_concurrent_call_raises_and_leaves_nothing(tmp_path, make_clip, colorizer,
                                                             monkeypatch):
    from vidcolor import Colorizer

    engine = _Concurrent(colorizer.engine, calls=2)
    monkeypatch.setattr(engine, "infer", _fail_on_call(3, engine.infer))
    src = make_clip(tmp_path / "in.mp4", frames=30)
    before = threading.active_count()
    with pytest.raises(RuntimeError, match="stage exploded"):
        colorize_video(src, tmp_path / "out.mp4", colorizer=Colorizer(engine, size=64), batch=2)
    assert threading.active_count() == before
    assert leftovers(tmp_path, {"in.mp4"}) == []


def test_real_clip_with_sound(tmp_path, shared_videos, packet_digest, video_pts, colorizer):
    src = shared_videos / "propainter_clips__test-sample0.mp4"
    if not src.exists():
        pytest.skip(f"{src.name} not in the shared clips")
    dst = tmp_path / "out.mp4"
    stats = colorize_video(src, dst, colorizer=colorizer)
    assert stats.frames == len(video_pts(src))
    assert video_pts(dst) == video_pts(src)
    assert packet_digest(dst, "audio") == packet_digest(src, "audio")
    assert min(psnr(a, b) for a, b in zip(luma_planes(src), luma_planes(dst), strict=True)) >= 40


def test_ctrl_c_waits_for_every_stage_then_keeps_a_partial(tmp_path, make_clip, colorizer,
                                                           monkeypatch):
    """Ctrl-C while the encoder thread is busy: the partial is finalized only after it ended.

    Before Python 3.13 a KeyboardInterrupt inside ``Thread.join`` marks the joined thread as
    finished while it still runs; the run must not trust that.
    """
    import os
    import signal
    import time

    import vidcolor.pipeline as pipeline
    from vidcolor.pipeline import Interrupted

    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        pytest.skip("needs Python's own Ctrl-C handling on the main thread")
    real_write = pipeline.VideoWriter.write_frame
    busy = threading.Event()

    def slow_write(self, frame):
        if self.frames == 3:
            busy.set()
            time.sleep(0.5)  # Ctrl-C lands while the encoder is in here
        real_write(self, frame)

    def press_ctrl_c():
        if busy.wait(60):
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(pipeline.VideoWriter, "write_frame", slow_write)
    src = make_clip(tmp_path / "in.mp4", frames=30)
    before = threading.active_count()
    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        with pytest.raises(Interrupted) as caught:
            colorize_video(src, tmp_path / "out.mp4", colorizer=colorizer, batch=2)
    finally:
        presser.join()
    assert threading.active_count() == before  # no stage thread outlives the run
    partial = tmp_path / "out.partial.mp4"
    assert caught.value.partial == partial and not caught.value.complete
    assert leftovers(tmp_path, {"in.mp4"}) == [partial.name]
    assert 4 <= len(luma_planes(partial)) < 30  # the frame in flight was finished and kept
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


class _Intruder(NullProgress):
    """Writes a file at the destination while the run is under way (another run, say)."""

    def __init__(self, dst) -> None:
        self.dst = dst

    def advance(self, n: int = 1) -> None:
        if not self.dst.exists():
            self.dst.write_bytes(b"someone else's file")


def test_an_output_that_appears_during_the_run_is_not_replaced(tmp_path, make_clip, colorizer):
    from vidcolor.io.errors import OutputError

    src = make_clip(tmp_path / "in.mp4", frames=12)
    dst = tmp_path / "out.mp4"
    with pytest.raises(OutputError, match="appeared during the run") as err:
        colorize_video(src, dst, colorizer=colorizer, progress=_Intruder(dst))
    assert dst.read_bytes() == b"someone else's file"
    kept = tmp_path / "out.1.mp4"
    assert str(kept) in str(err.value)
    with av.open(str(kept)) as container:  # nothing lost: this run's result is beside it
        assert sum(1 for _ in container.decode(video=0)) == 12
    assert leftovers(tmp_path, {"in.mp4", "out.mp4", "out.1.mp4"}) == []


def test_with_overwrite_an_output_that_appears_is_replaced(tmp_path, make_clip, colorizer):
    src = make_clip(tmp_path / "in.mp4", frames=6)
    dst = tmp_path / "out.mp4"
    colorize_video(src, dst, colorizer=colorizer, progress=_Intruder(dst), overwrite=True)
    with av.open(str(dst)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 6
