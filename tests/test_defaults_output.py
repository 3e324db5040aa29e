"""Defaults that used to fail on common inputs: odd sizes, WebM and GIF outputs, CRF ranges.

Each test runs the real command (``vidcolor.cli.main``) on real encoded clips and checks
what comes out: frame counts, timestamps, codecs, pixel values, exit statuses and messages.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from test_io_roundtrip import remux
from test_pipeline_support import (  # noqa: F401  (fixtures)
    leftovers,
    luma_planes,
    psnr,
    tiny_weights_fixture,
)

from vidcolor.cli import main
from vidcolor.io import OutputError
from vidcolor.io.writer import check_crf, choose_encoder, video_encoder
from vidcolor.pipeline import colorize_video
from vidcolor.specs import ModelSpec, OutputSpec

FAST = ("--engine", "torch", "--device", "cpu", "--size", "64")
ODD = (641, 361)


def colorize(*args, weights: Path) -> int:
    return main([*map(str, args), "--weights", str(weights), *FAST])


def decoded(path: Path) -> tuple[str, list[av.VideoFrame]]:
    """The video codec's name and every decoded frame."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.name, list(container.decode(stream))


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_odd_size_with_the_default_codec_keeps_the_luma(tmp_path, make_clip, tiny_weights,
                                                        caplog):
    src = make_clip(tmp_path / "odd.mkv", frames=8, size=ODD, codec="ffv1")  # 4:2:0, odd
    assert colorize(src, "-o", tmp_path / "out.mp4", weights=tiny_weights) == 0
    codec, frames = decoded(tmp_path / "out.mp4")
    assert codec == "h264" and len(frames) == 8
    assert {(f.width, f.height, f.format.name) for f in frames} == {(*ODD, "yuv444p")}
    assert min(psnr(a, b) for a, b in zip(luma_planes(src), luma_planes(tmp_path / "out.mp4"),
                                           strict=True)) >= 40
    odd = [w for w in warnings(caplog) if "odd side" in w]
    assert len(odd) == 1 and "641x361" in odd[0] and "yuv444p" in odd[0]


def test_odd_size_is_bit_exact_when_lossless(tmp_path, make_clip, tiny_weights):
    src = make_clip(tmp_path / "odd.mkv", frames=6, size=ODD, codec="ffv1", audio=False)
    assert colorize(src, "-o", tmp_path / "x264.mp4", "--crf", "0", weights=tiny_weights) == 0
    assert colorize(src, "-o", tmp_path / "ffv1.mkv", "--codec", "ffv1",
                    weights=tiny_weights) == 0
    for out in ("x264.mp4", "ffv1.mkv"):
        got = luma_planes(tmp_path / out)
        assert len(got) == 6
        for a, b in zip(luma_planes(src), got, strict=True):
            np.testing.assert_array_equal(a, b)


def test_odd_crop_of_a_real_clip_is_bit_exact(tmp_path, shared_videos, tiny_weights):
    """Real footage cropped to 641x361: the lossless default-codec path keeps every luma."""
    clip = next((p for p in sorted(shared_videos.glob("*.mp4"))
                 if _size(p)[0] > ODD[0] and _size(p)[1] > ODD[1]), None)
    if clip is None:
        pytest.skip("no shared clip larger than 641x361")
    src = _crop(clip, tmp_path / "real_odd.mkv", frames=5)
    assert colorize(src, "-o", tmp_path / "out.mp4", "--crf", "0", weights=tiny_weights) == 0
    got, want = luma_planes(tmp_path / "out.mp4"), luma_planes(src)
    assert len(got) == len(want) == 5
    assert all(np.array_equal(a, b) for a, b in zip(want, got, strict=True))


def _size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height


def _crop(src: Path, dst: Path, frames: int) -> Path:
    """The top-left 641x361 of ``src``'s first frames, as lossless 4:2:0 FFV1."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = out.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = *ODD, "yuv420p"
        for index, frame in enumerate(inp.decode(video=0)):
            if index == frames:
                break
            rgb = frame.to_ndarray(format="rgb24")[: ODD[1], : ODD[0]]
            new = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            new = new.reformat(format="yuv420p")
            new.pts, new.time_base = index, Fraction(1, 25)
            out.mux(stream.encode(new))
        out.mux(stream.encode(None))
    return dst


def test_webm_output_gets_vp9(tmp_path, make_clip, tiny_weights, video_pts):
    src = make_clip(tmp_path / "film.mp4", frames=10)
    assert colorize(src, "-o", tmp_path / "film.webm", weights=tiny_weights) == 0
    codec, frames = decoded(tmp_path / "film.webm")
    assert codec == "vp9" and len(frames) == 10
    pairs = zip(video_pts(tmp_path / "film.webm"), video_pts(src), strict=True)
    assert all(abs(a - b) <= Fraction(1, 1000) for a, b in pairs)  # WebM counts milliseconds
    assert min(psnr(a, b) for a, b in zip(luma_planes(src), luma_planes(tmp_path / "film.webm"),
                                           strict=True)) >= 40


@pytest.mark.parametrize(("codec", "rate", "layout", "note"), [
    ("aac", 44100, "mono", "(48000 Hz)"), ("ac3", 48000, "5.1(side)", "(5.1)")])
def test_sound_opus_cannot_take_is_converted_for_it(tmp_path, make_clip, tiny_weights, caplog,
                                                    codec, rate, layout, note):
    """Into WebM, sound becomes Opus, which runs at 48 kHz only and refuses side speakers: AAC
    at 44.1 kHz (the commonest rate in MP4 files) and AC-3 5.1 failed ("Invalid argument")
    when the encoder opened. Now resampled, or remapped to 5.1 (back); the tone survives."""
    src = make_clip(tmp_path / "film.mkv", frames=24, audio_codec=codec, audio_rate=rate,
                    audio_layout=layout)
    with caplog.at_level(logging.WARNING):
        assert colorize(src, "-o", tmp_path / "film.webm", weights=tiny_weights) == 0
    assert f"transcoding to libopus {note}" in caplog.text
    with av.open(str(tmp_path / "film.webm")) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.rate) == ("opus", 48000)
        assert stream.layout.nb_channels == (6 if codec == "ac3" else 1)
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(stream)])
    assert len(samples) / 48000 == pytest.approx(1.0, abs=0.05)  # the input's second of sound
    spectrum = np.abs(np.fft.rfft(samples[4800:-4800]))
    peak = np.fft.rfftfreq(len(samples) - 9600, 1 / 48000)[spectrum.argmax()]
    assert peak == pytest.approx(440, abs=3)


@pytest.mark.parametrize(("name", "codec", "sound"), [
    ("film.y4m", "rawvideo", None), ("film.ogv", "vp8", "opus"), ("film.avi", "h264", "aac"),
    ("film.mxf", "h264", "pcm_s16le")])
def test_fixed_rate_containers_play_at_the_inputs_rate(tmp_path, make_clip, tiny_weights, name,
                                                       codec, sound):
    """AVI, Ogg and YUV4MPEG take the stream's time base as the frame rate: written with the
    input's (MP4: 1/12288) they played at 12288 fps, or failed; Ogg and YUV4MPEG also failed
    at the header on AAC sound, which Ogg now gets as Opus and YUV4MPEG (video only) drops.
    MXF takes PCM at 48 kHz only: AAC (at 16 kHz here) failed at the header there too."""
    src = make_clip(tmp_path / "film.mp4", frames=10)
    assert colorize(src, "-o", tmp_path / name, weights=tiny_weights) == 0
    got, frames = decoded(tmp_path / name)
    assert got == codec and len(frames) == 10
    with av.open(str(tmp_path / name)) as container:
        stream = container.streams.video[0]
        assert (stream.average_rate or stream.guessed_rate) == 24
        assert stream.duration * stream.time_base == pytest.approx(10 / 24, abs=1e-3)
        assert [a.codec_context.name for a in container.streams.audio] == ([sound] if sound
                                                                          else [])
    lumas = zip(luma_planes(src), luma_planes(tmp_path / name), strict=True)
    if codec == "rawvideo":
        assert all(np.array_equal(a, b) for a, b in lumas)
    else:
        assert min(psnr(a, b) for a, b in lumas) >= 40


def test_opus_sound_is_copied_into_ogg(tmp_path, make_clip, tiny_weights):
    """Ogg holds Opus, though FFmpeg lists only its default codecs (VP8, FLAC) for it: the
    sound is copied packet for packet, not transcoded."""
    src = make_clip(tmp_path / "film.mkv", frames=24, audio_codec="libopus")
    assert colorize(src, "-o", tmp_path / "film.ogv", weights=tiny_weights) == 0

    def payloads(path: Path) -> list[bytes]:
        with av.open(str(path)) as container:
            return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]

    assert len(payloads(src)) > 40
    assert payloads(tmp_path / "film.ogv") == payloads(src)


CHAPTERS = ((0.0, 0.4, "Titles"), (0.4, 0.8, "Street"), (0.8, 1.0, "End"))


def chapter_list(path: Path) -> list[tuple[float, float, str]]:
    with av.open(str(path)) as container:
        return [(round(float(c["start"] * c["time_base"]), 3),
                 round(float(c["end"] * c["time_base"]), 3), c["metadata"].get("title"))
                for c in container.chapters()]


@pytest.mark.parametrize("name", ["film.mkv", "film.mp4"])
def test_chapters_survive_and_an_early_stop_cuts_them(tmp_path, make_clip, tiny_weights, name):
    """A film's chapters are kept (they were dropped); an output stopped early lists only
    the chapters it holds, the last one cut where its video ends."""
    src = make_clip(tmp_path / "src.mkv", frames=24, chapters=CHAPTERS)
    assert chapter_list(src) == list(CHAPTERS)
    assert colorize(src, "-o", tmp_path / name, weights=tiny_weights) == 0
    assert chapter_list(tmp_path / name) == list(CHAPTERS)
    short = tmp_path / f"short{Path(name).suffix}"
    assert colorize(src, "-o", short, "--frames", "15", weights=tiny_weights) == 0
    cut = chapter_list(short)  # 15 frames at 24 fps: 0.625 s, to Matroska's millisecond
    assert [c[::2] for c in cut] == [(0.0, "Titles"), (0.4, "Street")]
    assert [c[1] for c in cut] == pytest.approx([0.4, 0.625], abs=0.0015)


def test_gif_input_gives_a_gif(tmp_path, make_clip, tiny_weights, video_pts):
    src = make_clip(tmp_path / "anim.gif", frames=8, codec="gif", pix_fmt="rgb8", audio=False)
    assert colorize(src, weights=tiny_weights) == 0
    codec, frames = decoded(tmp_path / "anim_color.gif")
    assert codec == "gif" and len(frames) == 8
    assert video_pts(tmp_path / "anim_color.gif") == video_pts(src)


def test_gif_output_shows_the_colours_it_was_given(tmp_path, make_clip):
    """Frames built with strong chroma come out of the GIF's per-frame palettes as a lossless
    file of the same frames shows them, once the palettes' dithering is averaged out (8x8
    blocks: 1.5 levels apart; the wrong colour matrix or range would be 4 and 6)."""
    src = make_clip(tmp_path / "in.mkv", frames=4, codec="ffv1", audio=False)

    def chroma(luma, shape):
        ramp = np.linspace(40, 215, shape[1]).astype(np.uint8)
        return np.tile(ramp, (shape[0], 1)), np.tile(ramp[::-1], (shape[0], 1))

    remux(src, tmp_path / "out.gif", chroma, codec=None)
    remux(src, tmp_path / "ref.mkv", chroma, codec="ffv1")
    (codec, gif), (_, reference) = decoded(tmp_path / "out.gif"), decoded(tmp_path / "ref.mkv")
    assert codec == "gif" and len(gif) == len(reference) == 4
    for a, b in zip(gif, reference, strict=True):
        got, want = a.to_ndarray(format="rgb24").astype(int), b.to_ndarray(format="rgb24")
        assert np.ptp(want.astype(int), axis=2).mean() > 40  # strongly coloured
        assert np.abs(_blocks(got) - _blocks(want)).mean() < 2.5


def _blocks(rgb: np.ndarray, side: int = 8) -> np.ndarray:
    h, w = rgb.shape[0] // side * side, rgb.shape[1] // side * side
    return rgb[:h, :w].reshape(h // side, side, w // side, side, 3).mean(axis=(1, 3))


@pytest.mark.parametrize(("name", "codec", "fix"), [
    ("out.webm", "libx264", "libvpx-vp9"),
    ("out.gif", "libx264", "leave the codec out to get gif"),
    ("out.mp4", "gif", "leave the codec out to get libx264"),
])
def test_a_codec_the_container_cannot_hold_is_refused_up_front(tmp_path, make_clip,
                                                               tiny_weights, capsys, name,
                                                               codec, fix):
    src = make_clip(tmp_path / "in.mp4", frames=4)
    assert colorize(src, "-o", tmp_path / name, "--codec", codec, weights=tiny_weights) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vidcolor: error: "), err
    assert f"cannot hold {codec}" in err and fix in err, err
    assert leftovers(tmp_path, {"in.mp4"}) == []


def test_a_folder_gets_each_containers_codec_or_is_refused_whole(tmp_path, make_clip,
                                                                  tiny_weights, capsys):
    reel = tmp_path / "reel"
    reel.mkdir()
    make_clip(reel / "web.webm", frames=4, codec="libvpx-vp9", audio=False)
    make_clip(reel / "anim.gif", frames=4, codec="gif", pix_fmt="rgb8", audio=False)
    make_clip(reel / "film.mp4", frames=4)
    assert colorize(reel, "--codec", "libx264", weights=tiny_weights) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot hold libx264" in err, err
    assert leftovers(tmp_path, {"reel"}) == []  # refused before anything was written
    assert colorize(reel, weights=tiny_weights) == 0
    out = tmp_path / "reel_color"
    codecs = {name: decoded(out / name)[0] for name in ("web.webm", "anim.gif", "film.mp4")}
    assert codecs == {"web.webm": "vp9", "anim.gif": "gif", "film.mp4": "h264"}


def test_natural_codec_by_container_and_the_av1_fallback(monkeypatch):
    assert choose_encoder("x.mp4").name == "libx264"
    assert choose_encoder("x.mkv").name == "libx264"
    assert choose_encoder("x.webm").name == "libvpx-vp9"
    assert choose_encoder("x.gif").name == "gif"
    assert choose_encoder("x.ts").name == "libx264"  # MPEG-TS lists MPEG-2 only, holds H.264
    assert choose_encoder("x.ogv").name == "libvpx"  # Ogg refuses all but its own, at the header
    assert choose_encoder("x.y4m").name == "wrapped_avframe"
    import vidcolor.io.writer as writer

    def no_vp9(name):
        if name == "libvpx-vp9":
            raise writer.CodecChoiceError("unknown video codec 'libvpx-vp9'")
        return video_encoder(name)

    monkeypatch.setattr(writer, "video_encoder", no_vp9)
    assert choose_encoder("x.webm").name == "libsvtav1"


CRF_CASES = [  # (codec or None, output, --crf, exit status, words of the message)
    ("libx264", "out.mp4", "99", 2, "outside libx264's scale, 0 to 51"),
    (None, "out.mp4", "52", 2, "outside libx264's scale, 0 to 51"),
    ("libx265", "out.mkv", "52", 2, "outside libx265's scale, 0 to 51"),
    (None, "out.webm", "64", 2, "outside libvpx-vp9's scale, 0 to 63"),
    (None, "out.webm", "30.5", 2, "whole-number CRF"),
    ("libsvtav1", "out.mkv", "64", 2, "outside libsvtav1's scale, 0 to 63"),
    ("h264_nvenc", "out.mp4", "52", 2, "outside h264_nvenc's scale, 0 to 51"),
    ("ffv1", "out.mkv", "10", 2, "ffv1 has no CRF scale"),
    (None, "out.gif", "10", 2, "gif has no CRF scale"),
    ("libx264", "out.mp4", "-1", 2, "outside libx264's scale"),
]


@pytest.mark.parametrize(("codec", "name", "crf", "code", "words"), CRF_CASES)
def test_crf_is_checked_against_the_encoders_scale(tmp_path, make_clip, tiny_weights, capsys,
                                                   codec, name, crf, code, words):
    src = make_clip(tmp_path / "in.mp4", frames=4)
    extra = ("--codec", codec) if codec else ()
    assert colorize(src, "-o", tmp_path / name, "--crf", crf, *extra,
                    weights=tiny_weights) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vidcolor: error: ") and words in err, err
    assert leftovers(tmp_path, {"in.mp4"}) == []


@pytest.mark.parametrize(("name", "preset", "code"), [
    ("out.webm", "fast", 2), ("out.gif", "fast", 2), ("out.mp4", "veryfast", 0)])
def test_a_preset_the_encoder_lacks_is_refused_not_ignored(tmp_path, make_clip, tiny_weights,
                                                           capsys, name, preset, code):
    src = make_clip(tmp_path / "in.mp4", frames=4, audio=False)
    assert colorize(src, "-o", tmp_path / name, "--preset", preset,
                    weights=tiny_weights) == code
    err = capsys.readouterr().err
    if code:
        assert "has no speed presets; leave --preset out" in err and err.count("\n") == 1
        assert leftovers(tmp_path, {"in.mp4"}) == []
    else:
        assert decoded(tmp_path / name)[0] == "h264"


@pytest.mark.parametrize(("codec", "crf"), [("libx264", 51), ("libx264", 0), ("libx265", 51),
                                            ("libvpx-vp9", 63), ("libsvtav1", 63),
                                            ("h264_nvenc", 51)])
def test_the_ends_of_each_scale_are_accepted(codec, crf):
    check_crf(video_encoder(codec), crf)


def test_python_api_chooses_by_container_and_checks_the_crf(tmp_path, make_clip, tiny_weights):
    src = make_clip(tmp_path / "in.mp4", frames=4, audio=False)
    colorizer = ModelSpec(weights=str(tiny_weights), engine="torch", device="cpu",
                          size=64).build()
    colorize_video(src, tmp_path / "out.webm", colorizer=colorizer,
                   output=OutputSpec(codec=None))
    assert decoded(tmp_path / "out.webm")[0] == "vp9"
    with pytest.raises(OutputError, match="outside libx264's scale"):
        colorize_video(src, tmp_path / "bad.mp4", colorizer=colorizer,
                       output=OutputSpec(crf=99))
    assert leftovers(tmp_path, {"in.mp4", "out.webm"}) == []


def test_x265_keeps_quiet_unless_asked(tmp_path, make_clip, tiny_weights, capfd):
    """libx265 wrote a dozen lines of its own banner to stderr, -q or not, whatever FFmpeg's
    log level: only its errors are let through now."""
    src = make_clip(tmp_path / "in.mp4", frames=4, audio=False)
    capfd.readouterr()
    assert colorize(src, "-o", tmp_path / "out.mkv", "--codec", "libx265", "-q",
                    weights=tiny_weights) == 0
    assert capfd.readouterr().err == ""
    codec, frames = decoded(tmp_path / "out.mkv")
    assert codec == "hevc" and len(frames) == 4
