"""Decode -> re-encode through the I/O layer, without colorization: nothing else may change."""

from __future__ import annotations

import hashlib
import logging
from fractions import Fraction

import av
import numpy as np
import pytest

from vidcolor.io import (
    VideoWriter,
    chroma_size,
    merge_planes,
    open_video,
    output_pix_fmt,
    split_luma,
)

TAGS = {"color_range": 1, "colorspace": 1, "color_primaries": 1, "color_trc": 1}


def remux(src, dst, make_chroma=None, **writer_options) -> VideoWriter:
    """Copy ``src`` to ``dst`` through reader and writer.

    With ``make_chroma(luma, shape) -> (cb, cr)`` each frame is rebuilt from its own luma and
    those planes, as the colorizer does; without it frames pass through as decoded.
    """
    with (
        open_video(src) as reader,
        VideoWriter(dst, reader.info, reader.copy_streams, src=src, **writer_options) as writer,
    ):
        for item in reader:
            if make_chroma is not None and isinstance(item, av.VideoFrame):
                luma = split_luma(item)
                shape = chroma_size(writer.pix_fmt, luma.width, luma.height)
                item = merge_planes(luma, *make_chroma(luma, shape), writer.pix_fmt)
            writer.write(item)
    return writer


def plane_array(plane, dtype) -> np.ndarray:
    rows = np.frombuffer(memoryview(plane), dtype).reshape(-1, plane.line_size // dtype.itemsize)
    return rows[: plane.height, : plane.width]


def lumas(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [split_luma(f).y for f in container.decode(video=0)]


def test_remux_keeps_timing_rotation_sar_tags_audio_and_subtitles(
    tmp_path, make_clip, packet_digest, video_pts
):
    src = make_clip(
        tmp_path / "in.mp4", vfr=True, rotation=90, subtitles=True, sar=Fraction(4, 3), colors=TAGS
    )
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    dst = tmp_path / "out.mp4"
    remux(src, dst, preset="ultrafast")

    with open_video(src) as a, open_video(dst) as b:
        info_in, info_out = a.info, b.info
    for field in (
        "width", "height", "time_base", "average_rate", "frames", "rotation",
        "display_matrix", "sample_aspect_ratio", "color_range", "color_primaries",
        "color_trc", "colorspace", "matrix", "full_range",
    ):  # fmt: skip
        assert getattr(info_out, field) == getattr(info_in, field), field
    assert info_out.duration == pytest.approx(info_in.duration, abs=1e-3)  # edit lists: 1 ms
    assert info_in.rotation == 90 and info_in.sample_aspect_ratio == Fraction(4, 3)
    pts = video_pts(src)
    assert len(set(np.diff(pts))) > 1, "the fixture must be VFR"
    assert video_pts(dst) == pts
    assert packet_digest(dst, "audio") == packet_digest(src, "audio")
    assert packet_digest(dst, "subtitle") == packet_digest(src, "subtitle")
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mp4"]


def test_matroska_subtitles_copy_and_transcode_to_mp4(tmp_path, make_clip, packet_digest, caplog):
    src = make_clip(tmp_path / "in.mkv", subtitles=True)
    remux(src, tmp_path / "same.mkv", preset="ultrafast")
    assert packet_digest(tmp_path / "same.mkv", "subtitle") == packet_digest(src, "subtitle")
    assert packet_digest(tmp_path / "same.mkv", "audio") == packet_digest(src, "audio")

    with caplog.at_level(logging.WARNING, logger="vidcolor.io"):
        remux(src, tmp_path / "other.mp4", preset="ultrafast")
    assert len(caplog.records) == 1 and "mov_text" in caplog.records[0].getMessage()
    with av.open(str(tmp_path / "other.mp4")) as out:
        assert out.streams.subtitles[0].codec_context.name == "mov_text"
        texts = [bytes(p)[2:] for p in out.demux(subtitles=0) if p.size > 2]
    assert texts == [b"line 0", b"line 1", b"line 2"]


def test_audio_the_container_cannot_hold_is_transcoded_once(tmp_path, make_clip, video_pts, caplog):
    src = make_clip(tmp_path / "in.mov", audio_codec="pcm_mulaw")
    with caplog.at_level(logging.WARNING, logger="vidcolor.io"):
        remux(src, tmp_path / "out.mp4", preset="ultrafast")
    assert [r.getMessage() for r in caplog.records] == [
        "audio stream #1 (pcm_mulaw) cannot be stream-copied into mp4; transcoding to aac"
    ]
    with av.open(str(src)) as a, av.open(str(tmp_path / "out.mp4")) as b:
        samples_in = sum(f.samples for f in a.decode(audio=0))
        samples_out = sum(f.samples for f in b.decode(audio=0))
        assert b.streams.audio[0].codec_context.name == "aac"
    assert abs(samples_out - samples_in) <= 2048  # AAC priming / final frame padding
    assert video_pts(tmp_path / "out.mp4") == video_pts(src)


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt", "options"),
    [
        ("ffv1.mkv", "ffv1", "yuv420p", {}),
        ("x264.mp4", "libx264", "yuv420p", {"qp": "0"}),
        ("x264_444.mp4", "libx264", "yuv444p", {"qp": "0"}),
        ("ffv1_422.mkv", "ffv1", "yuv422p", {}),
        ("mjpeg_full.mkv", "mjpeg", "yuvj420p", {}),
        ("gray.mkv", "ffv1", "gray", {}),
    ],
)
def test_luma_is_bit_exact_and_chroma_is_ours(tmp_path, make_clip, name, codec, pix_fmt, options):
    src = make_clip(tmp_path / f"in_{name}", frames=6, codec=codec, pix_fmt=pix_fmt, audio=False)
    out_codec = "libx264" if codec == "libx264" else "ffv1"
    dst = tmp_path / f"out_{name.rsplit('.', 1)[0]}.mkv"

    def stripes(luma, shape):
        cb = np.tile((np.arange(shape[1]) * 3 % 256).astype(np.uint8), (shape[0], 1))
        return cb, 255 - cb

    writer = remux(src, dst, stripes, codec=out_codec, crf=None, options=options)
    assert writer.pix_fmt == {"yuv444p": "yuv444p", "yuv422p": "yuv422p"}.get(pix_fmt, "yuv420p")
    expected, got = lumas(src), lumas(dst)
    assert len(got) == len(expected) == 6
    assert all(np.array_equal(a, b) for a, b in zip(expected, got, strict=True))
    with open_video(src) as a, open_video(dst) as b:
        assert (b.info.full_range, b.info.matrix) == (a.info.full_range, a.info.matrix)
        frame = next(f for f in b if isinstance(f, av.VideoFrame))
    cb_out = plane_array(frame.planes[1], np.dtype(np.uint8))
    assert np.array_equal(cb_out, stripes(None, cb_out.shape)[0])


def test_ten_bit_and_rgb_inputs_become_8_bit_luma(tmp_path, make_clip):
    ten = make_clip(
        tmp_path / "ten.mkv", frames=2, codec="ffv1", pix_fmt="yuv420p10le", audio=False
    )
    with av.open(str(ten)) as container:
        frame = next(container.decode(video=0))
        y16 = plane_array(frame.planes[0], np.dtype("<u2"))
        luma = split_luma(frame)
    assert luma.y.dtype == np.uint8 and luma.y.shape == (96, 160) and not luma.full_range
    assert np.array_equal(luma.y, ((y16 + 2) >> 2).astype(np.uint8))
    assert luma.bits == 10 and np.array_equal(luma.deep, y16)  # for a layout as deep

    rgb = make_clip(tmp_path / "rgb.avi", frames=2, codec="ffv1", pix_fmt="bgr0", audio=False)
    with open_video(rgb) as reader:
        assert (reader.info.matrix, reader.info.full_range, reader.info.colorspace) == (
            "bt601",
            False,
            6,
        )
        frame = next(f for f in reader if isinstance(f, av.VideoFrame))
        bgr = frame.to_ndarray(format="bgr24").astype(np.float32)
        luma = split_luma(frame)
    expected = 16 + (0.299 * bgr[..., 2] + 0.587 * bgr[..., 1] + 0.114 * bgr[..., 0]) * 219 / 255
    assert np.abs(luma.y - expected).max() <= 1.5


def test_avi_b_frames_get_increasing_timestamps_and_none_is_lost(tmp_path, make_clip):
    src = make_clip(tmp_path / "in.avi", audio=False)  # AVI stores H.264 B-frames in dts order
    with open_video(src) as reader:
        pts = [item.pts for item in reader if isinstance(item, av.VideoFrame)]
        assert reader.skipped == 0
    assert len(pts) == 24 and all(b > a for a, b in zip(pts, pts[1:], strict=False))


def test_spliced_transport_stream_plays_through_its_joins(tmp_path, make_clip, caplog):
    """``cat a.ts b.ts``: the second piece's clock starts again. Its frames were dropped as
    going back in time and its sound ended the run ("Invalid argument"); now, as with the
    ffmpeg command, the pieces follow each other: every frame, evenly spaced, and the sound."""
    pieces = [make_clip(tmp_path / f"{name}.ts", frames=24) for name in "ab"]
    spliced = tmp_path / "spliced.ts"
    spliced.write_bytes(b"".join(piece.read_bytes() for piece in pieces))
    with caplog.at_level(logging.WARNING):
        remux(spliced, tmp_path / "out.mkv")
    with av.open(str(tmp_path / "out.mkv")) as out:
        video, audio = out.streams.video[0], out.streams.audio[0]
        pts = [f.pts * video.time_base for f in out.decode(video)]
        out.seek(0)
        sound = [p.dts * audio.time_base for p in out.demux(audio) if p.size]
    steps = {round(float(b - a), 3) for a, b in zip(pts, pts[1:], strict=False)}
    assert len(pts) == 48 and steps <= {0.041, 0.042}  # the join is one frame, like the rest
    with av.open(str(pieces[0])) as piece:
        per_piece = sum(1 for p in piece.demux(piece.streams.audio[0]) if p.size)
    assert 2 * per_piece - 3 <= len(sound) <= 2 * per_piece  # at most the overlap dropped
    assert all(a < b for a, b in zip(sound, sound[1:], strict=False))
    assert sound[-1] - sound[0] == pytest.approx(pts[-1] - pts[0], abs=0.15)


def started_late(src, dst, seconds: int):
    """``src`` remuxed with its clock starting ``seconds`` in, as a camcorder's or a
    broadcast's transport stream starts."""
    with av.open(str(src)) as inp, av.open(str(dst), "w",
                                           options={"output_ts_offset": str(seconds)}) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        out.set_chapters(list(inp.chapters()))
        for packet in inp.demux():
            if packet.size:
                packet.stream = streams[packet.stream_index]
                out.mux(packet)
    return dst


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_a_clip_whose_clock_starts_an_hour_in_starts_at_zero(tmp_path, make_clip, suffix):
    """A 1 s transport stream whose clock read an hour came out an hour long: the MP4 opened
    on an empty edit of 3,600 s. Every stream moves back together, as with ``ffmpeg``: each
    frame's spacing, the sound's bytes and the lag between them are the input's."""
    src = started_late(make_clip(tmp_path / "plain.ts"), tmp_path / "late.ts", 3600)
    remux(src, tmp_path / f"out{suffix}")
    with av.open(str(src)) as inp, av.open(str(tmp_path / f"out{suffix}")) as out:
        assert inp.start_time > 3600 * av.time_base
        start = Fraction(inp.start_time, av.time_base)
        assert out.start_time == 0
        assert out.duration == pytest.approx(inp.duration, abs=2000)  # µs: the muxers' rounding
        for kind in ("video", "audio"):
            before = [(p.pts * p.time_base - start, bytes(p)) for p in inp.demux(
                inp.streams.get(**{kind: 0})) if p.size]
            after = [(p.pts * p.time_base, bytes(p)) for p in out.demux(
                out.streams.get(**{kind: 0})) if p.size]
            times = zip(sorted(t for t, _ in after), sorted(t for t, _ in before), strict=True)
            assert all(abs(a - b) <= Fraction(1, 1000) for a, b in times)  # and as many
            if kind == "audio":  # copied (the picture is encoded again)
                assert [b for _, b in after] == [b for _, b in before]


def test_chapters_move_back_with_the_picture(tmp_path, make_clip):
    chapters = ((10.0, 10.5, "one"), (10.5, 11.0, "two"))
    plain = make_clip(tmp_path / "plain.mkv", chapters=chapters)
    remux(started_late(plain, tmp_path / "late.mkv", 10), tmp_path / "out.mkv")
    with av.open(str(tmp_path / "out.mkv")) as out:
        assert [(float(c["start"] * c["time_base"]), float(c["end"] * c["time_base"]),
                 c["metadata"]["title"]) for c in out.chapters()] == [
            (0.0, 0.5, "one"), (0.5, 1.0, "two")]
        assert out.start_time == 0


def test_seek_in_a_transport_stream_lands_at_or_before_its_target(tmp_path, make_clip):
    """MPEG-TS seeks land on the first keyframe whose dts is not before the target, or past
    the end: a --resume segment lost its first frames, a contact sheet its last sample."""
    src = make_clip(tmp_path / "in.ts", frames=96, options={"g": "24", "keyint_min": "24"})
    with open_video(src, copy_types=()) as reader:
        every = [frame.pts for frame in reader]
        keys = every[::24]
        for target in [every[0], every[30], keys[2], every[95], every[95] + 90000]:
            reader.seek(target)
            frames = [frame.pts for frame in reader]
            assert frames[0] <= target and frames[0] in keys
            assert frames == every[every.index(frames[0]):]  # then every frame, in order
            assert frames[0] >= min(target, every[-1]) - 2 * 90000  # not from far back


def test_attachments_are_carried_into_matroska(tmp_path, make_clip, caplog):
    """Matroska's attachments (the fonts styled subtitles are drawn with) were dropped
    silently; they are copied whole, and where the output has no place for them (MP4) a
    warning says so."""
    font = bytes(range(256)) * 40
    src = make_clip(tmp_path / "plain.mkv", frames=6)
    with av.open(str(src)) as plain, av.open(str(tmp_path / "in.mkv"), "w") as out:
        video = out.add_stream_from_template(plain.streams.video[0])
        out.add_attachment("Title Font.ttf", "application/x-truetype-font", font)
        for packet in plain.demux(plain.streams.video[0]):
            if packet.size:
                packet.stream = video
                out.mux(packet)
    remux(tmp_path / "in.mkv", tmp_path / "out.mkv")
    with av.open(str(tmp_path / "out.mkv")) as out:
        (kept,) = [s for s in out.streams if s.type == "attachment"]
        assert (kept.name, kept.mimetype, bytes(kept.data)) == (
            "Title Font.ttf", "application/x-truetype-font", font)
    with caplog.at_level(logging.WARNING):
        remux(tmp_path / "in.mkv", tmp_path / "out.mp4")
    assert "attachment 'Title Font.ttf' (application/x-truetype-font) cannot be stored in mp4" \
        in caplog.text


def test_output_pixel_format_follows_the_input_where_the_encoder_can():
    assert output_pix_fmt(av.Codec("libx264", "w"), "yuv444p") == "yuv444p"
    assert output_pix_fmt(av.Codec("libx264", "w"), "yuvj422p") == "yuv422p"
    assert output_pix_fmt(av.Codec("libsvtav1", "w"), "yuv444p") == "yuv420p"
    assert output_pix_fmt(av.Codec("libx264", "w"), "rgb24") == "yuv420p"
    assert output_pix_fmt(av.Codec("libx264", "w"), "gray") == "yuv420p"
    # deeper inputs: their own depth, else the nearest deeper, else the deepest below
    assert output_pix_fmt(av.Codec("libx264", "w"), "yuv422p10le") == "yuv422p10le"
    assert output_pix_fmt(av.Codec("libx264", "w"), "yuv420p12le") == "yuv420p10le"
    assert output_pix_fmt(av.Codec("libx265", "w"), "gray12le") == "yuv420p12le"
    assert output_pix_fmt(av.Codec("ffv1", "w"), "yuv444p9le") == "yuv444p10le"
    assert output_pix_fmt(av.Codec("ffv1", "w"), "yuv420p16le") == "yuv420p16le"
    assert output_pix_fmt(av.Codec("libvpx", "w"), "yuv420p10le") == "yuv420p"  # VP8: 8 bits
    assert output_pix_fmt(av.Codec("libx264", "w"), "rgb48le") == "yuv420p10le"
    assert output_pix_fmt(av.Codec("ffv1", "w"), "gbrp10le") == "yuv420p10le"
    assert output_pix_fmt(av.Codec("libx265", "w"), "p010le") == "yuv420p10le"
    assert output_pix_fmt(av.Codec("libx264", "w"), "yuv420p10le", (641, 361)) == "yuv444p10le"


def test_merge_planes_scales_chroma_and_rounds_deeper_luma():
    frame = av.VideoFrame(16, 8, "yuv420p12le")
    frame.pts, frame.time_base = 0, Fraction(1, 25)
    y12 = plane_array(frame.planes[0], np.dtype("<u2"))
    y12[...] = np.arange(128, dtype=np.uint16).reshape(8, 16) * 32 + 7
    luma = split_luma(frame)
    chroma = np.full((4, 8), 200, np.uint8)
    ten = merge_planes(luma, chroma, chroma, "yuv420p10le")
    y10 = plane_array(ten.planes[0], np.dtype("<u2"))
    assert np.array_equal(y10, (y12.astype(int) + 2) >> 2)
    assert set(plane_array(ten.planes[1], np.dtype("<u2")).ravel()) == {800}


@pytest.mark.parametrize(("codec", "pix_fmt", "size", "expected"), [
    ("libx264", "yuv420p", (641, 361), "yuv444p"),  # H.264 cannot crop half a chroma sample
    ("libx264", "yuv420p", (640, 361), "yuv444p"),
    ("libx265", "yuvj420p", (641, 360), "yuv444p"),
    ("libx264", "yuv422p", (640, 361), "yuv422p"),  # 4:2:2 is not subsampled vertically
    ("libx264", "yuv422p", (641, 360), "yuv444p"),
    ("libx264", "yuv420p", (640, 360), "yuv420p"),
    ("ffv1", "yuv420p", (641, 361), "yuv420p"),  # FFV1 and VP9 hold odd 4:2:0 themselves
    ("libvpx-vp9", "yuv420p", (641, 361), "yuv420p"),
    ("libsvtav1", "yuv420p", (641, 361), "yuv420p"),
    ("gif", "rgb8", (641, 361), "yuv444p"),  # built at full chroma, paletted by the writer
])
def test_output_pixel_format_holds_odd_sizes(codec, pix_fmt, size, expected):
    assert output_pix_fmt(av.Codec(codec, "w"), pix_fmt, size) == expected


def test_merge_planes_rejects_wrong_chroma_shape():
    luma = split_luma(av.VideoFrame(16, 8, "yuv420p"))
    with pytest.raises(ValueError, match="cb must be uint8"):
        merge_planes(luma, np.zeros((8, 16), np.uint8), np.zeros((4, 8), np.uint8))


def test_default_encoding_keeps_luma_above_40_db(tmp_path, make_clip):
    src = make_clip(tmp_path / "in.mp4", frames=8, audio=False, options={"qp": "0"})
    remux(src, tmp_path / "out.mp4", lambda luma, shape: (np.full(shape, 128, np.uint8),) * 2)
    for a, b in zip(lumas(src), lumas(tmp_path / "out.mp4"), strict=True):
        mse = np.mean((a.astype(np.float64) - b) ** 2)
        assert 10 * np.log10(255**2 / max(mse, 1e-12)) >= 40
