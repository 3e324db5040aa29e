"""Bad inputs and bad destinations fail cleanly; outputs appear whole or not at all."""

from __future__ import annotations

from fractions import Fraction

import av
import pytest

from vidcolor.io import InputError, OutputError, VideoWriter, open_video, partial_path


@pytest.fixture
def clip(tmp_path, make_clip):
    return make_clip(tmp_path / "in.mp4", frames=12)


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert message and "\n" not in message and "Traceback" not in message
    return message


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError) as err:
        open_video(tmp_path / "nope.mp4")
    assert "no such file" in one_line(err)
    with pytest.raises(InputError, match="is a directory"):
        open_video(tmp_path)


def test_text_file_named_mp4(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 20)
    with pytest.raises(InputError) as err:
        open_video(fake)
    assert one_line(err).startswith(f"cannot open {fake}")


@pytest.mark.parametrize("keep", [0.5, 0.02])
def test_truncated_file(tmp_path, clip, keep):
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * keep)])  # MP4 keeps its index at the end
    with pytest.raises(InputError) as err:
        open_video(cut)
    one_line(err)


def test_audio_only_file_has_no_video_stream(tmp_path):
    path = tmp_path / "sound.m4a"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=16000)
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate, frame.pts = 16000, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(InputError) as err:
        open_video(path)
    assert one_line(err).endswith("no video stream")


def write_with_cover(path, film_frames: int) -> None:
    """Sound (MP3 or AAC), a cover picture and ``film_frames`` frames of film."""
    import numpy as np

    with av.open(str(path), "w") as out:
        cover = out.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 64, 64, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        film = out.add_stream("libx264", rate=24) if film_frames else None
        if film:
            film.width, film.height, film.pix_fmt = 64, 48, "yuv420p"
        sound = out.add_stream("libmp3lame" if path.suffix == ".mp3" else "aac", rate=44100,
                               layout="mono")
        picture = av.VideoFrame.from_ndarray(np.full((64, 64, 3), 200, np.uint8), format="rgb24")
        out.mux(cover.encode(picture.reformat(format="yuvj420p")))
        out.mux(cover.encode(None))
        for i in range(film_frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * i, np.uint8), "rgb24")
            frame.pts = i
            out.mux(film.encode(frame))
        if film:
            out.mux(film.encode(None))
        for i in range(20):
            chunk = av.AudioFrame.from_ndarray(np.zeros((1, 1152), np.float32), format="fltp",
                                               layout="mono")
            chunk.sample_rate, chunk.pts = 44100, i * 1152
            out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))


def test_a_cover_picture_is_not_a_film(tmp_path):
    song = tmp_path / "song.mp3"
    write_with_cover(song, film_frames=0)
    with pytest.raises(InputError) as err:
        open_video(song)
    assert one_line(err) == f"{song}: no video stream (its only picture is cover art)"
    film = tmp_path / "film.mp4"  # a film with cover art reads its film, not the cover
    write_with_cover(film, film_frames=10)
    with open_video(film) as reader:
        assert not reader.video_stream.disposition & av.stream.Disposition.attached_pic
        assert sum(isinstance(item, av.VideoFrame) for item in reader) == 10


def test_corrupt_packet_in_the_middle_is_skipped_and_counted(tmp_path, make_clip, caplog):
    src = make_clip(tmp_path / "in.mp4", frames=48, audio=False)
    with av.open(str(src)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    pos, size = packets[20]
    data = bytearray(src.read_bytes())
    data[pos + 4 : pos + size] = bytes((i * 37 + 11) % 256 for i in range(size - 4))
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))

    with open_video(bad) as reader, VideoWriter(tmp_path / "out.mp4", reader.info) as writer:
        for item in reader:
            writer.write(item)
    assert reader.skipped >= 1
    assert writer.frames + reader.skipped >= 47
    assert any("skipped" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("codec", ["no_such_codec", "aac", "h264_nvenc"])
def test_unusable_codec_fails_before_any_file_exists(tmp_path, clip, codec):
    if codec == "h264_nvenc" and _nvenc_works():
        pytest.skip("NVENC is usable here")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with open_video(clip) as reader, pytest.raises(OutputError) as err:
        VideoWriter(out_dir / "x.mp4", reader.info, reader.copy_streams, codec=codec)
    one_line(err)
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("in.mp4", "refusing to overwrite the input"),
        ("missing/out.mp4", "does not exist"),
        ("out.xyz", "cannot write out.xyz"),
    ],
)
def test_bad_destinations(tmp_path, clip, name, message):
    with open_video(clip) as reader, pytest.raises(OutputError, match=message):
        VideoWriter(tmp_path / name, reader.info, src=clip, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_existing_output_needs_overwrite(tmp_path, clip):
    (tmp_path / "out.mp4").write_bytes(b"old")
    with open_video(clip) as reader, pytest.raises(OutputError, match="already exists"):
        VideoWriter(tmp_path / "out.mp4", reader.info)
    assert (tmp_path / "out.mp4").read_bytes() == b"old"


def test_failure_midway_leaves_nothing(tmp_path, clip):
    with (
        pytest.raises(RuntimeError),
        open_video(clip) as reader,
        VideoWriter(tmp_path / "out.mp4", reader.info, reader.copy_streams) as writer,
    ):
        for index, item in enumerate(reader):
            writer.write(item)
            if index == 5:
                raise RuntimeError("stop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_interrupted_output_is_finalized_as_a_playable_partial(tmp_path, clip, video_pts):
    dst = tmp_path / "out.mp4"
    with open_video(clip) as reader, VideoWriter(dst, reader.info, reader.copy_streams) as w:
        frames = (item for item in reader if isinstance(item, av.VideoFrame))
        for _ in range(7):
            w.write(next(frames))
        kept = w.finalize_partial()
    assert kept == partial_path(dst) == tmp_path / "out.partial.mp4"
    assert len(video_pts(kept)) == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.partial.mp4"]


def test_interrupted_before_any_frame_leaves_nothing(tmp_path, clip):
    with open_video(clip) as reader:
        writer = VideoWriter(tmp_path / "out.mp4", reader.info, reader.copy_streams)
        assert writer.finalize_partial() is None
        with pytest.raises(OutputError, match="no video frames"):
            VideoWriter(tmp_path / "out2.mp4", reader.info).close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def _nvenc_works() -> bool:
    try:
        ctx = av.CodecContext.create("h264_nvenc", "w")
        ctx.width, ctx.height, ctx.pix_fmt, ctx.time_base = 64, 64, "yuv420p", Fraction(1, 25)
        ctx.open()
    except (av.FFmpegError, ValueError, TypeError):
        return False
    return True
