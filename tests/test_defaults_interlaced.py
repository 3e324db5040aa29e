"""Interlaced input stays interlaced: same field order in the tags and in the coded frames.

The clips are made here with PyAV as a camera would make them: each frame weaves two fields
taken half a frame apart (the moving square sits elsewhere in the odd rows), coded with
interlaced DCT and motion estimation, each frame marked with its first field.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.codec.context import Flags
from conftest import clip_frame
from test_pipeline_support import luma_planes, psnr, tiny_weights_fixture  # noqa: F401

from vidcolor.cli import main
from vidcolor.io import open_video

FAST = ("--engine", "torch", "--device", "cpu", "--size", "64")
SIZE = (160, 96)
FIELD_ORDER = {"tff": 2, "bff": 3}  # FFmpeg's AVFieldOrder: tt, bb


def interlaced_clip(path: Path, first: str, codec: str, frames: int = 8) -> Path:
    """A clip of ``frames`` woven frames, ``first`` ("tff"/"bff") field shown first."""
    width, height = SIZE
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        ctx = stream.codec_context
        ctx.time_base, ctx.field_order = Fraction(1, 25), FIELD_ORDER[first]
        ctx.flags |= Flags.interlaced_dct | Flags.interlaced_me
        if codec == "libx264":
            ctx.options = {"qp": "0"}
        mark = _field_marker(first)
        for index in range(frames):
            rgb = clip_frame(2 * index, width, height)
            later = clip_frame(2 * index + 1, width, height)
            rgb[1 if first == "tff" else 0 :: 2] = later[1 if first == "tff" else 0 :: 2]
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = index, Fraction(1, 25)
            mark.push(frame)
            out.mux(stream.encode(mark.pull()))
        out.mux(stream.encode(None))
    return path


def _field_marker(first: str) -> av.filter.Graph:
    """setfield: the only way to set a frame's field flags from PyAV."""
    graph = av.filter.Graph()
    graph.link_nodes(graph.add_buffer(width=SIZE[0], height=SIZE[1], format="yuv420p",
                                      time_base=Fraction(1, 25)),
                     graph.add("setfield", first), graph.add("buffersink"))
    graph.configure()
    return graph


def shown_first(frame: av.VideoFrame) -> str:
    """Which field the frame says comes first: separatefields puts it out first, and its rows
    are the top (even) or the bottom (odd) rows of the frame."""
    graph = av.filter.Graph()
    graph.link_nodes(graph.add_buffer(width=frame.width, height=frame.height,
                                      format=frame.format.name, time_base=Fraction(1, 25)),
                     graph.add("separatefields"), graph.add("buffersink"))
    graph.configure()
    frame.pts, frame.time_base = 0, Fraction(1, 25)
    graph.push(frame)
    field = graph.pull().to_ndarray()[: frame.height // 2, : frame.width]
    luma = frame.to_ndarray()[: frame.height]
    top, bottom = np.array_equal(field, luma[0::2]), np.array_equal(field, luma[1::2])
    assert top != bottom, "the fields must differ"
    return "tff" if top else "bff"


def field_order(path: Path) -> tuple[int, list[bool], list[str]]:
    """(the stream's field order, each frame's interlaced flag, each frame's first field)."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
        tag = container.streams.video[0].codec_context.field_order
    return tag, [f.interlaced_frame for f in frames], [shown_first(f) for f in frames]


@pytest.mark.parametrize(("first", "codec", "name"), [("tff", "libx264", "in.mp4"),
                                                      ("bff", "ffv1", "in.mkv")])
def test_the_reader_sees_the_field_order(tmp_path, first, codec, name):
    src = interlaced_clip(tmp_path / name, first, codec)
    with open_video(src) as reader:
        assert reader.info.field_order == FIELD_ORDER[first]
    assert field_order(src) == (FIELD_ORDER[first], [True] * 8, [first] * 8)


@pytest.mark.parametrize(("first", "codec", "src_name", "out", "extra"), [
    ("tff", "libx264", "in.mp4", "out.mp4", ()),  # the default codec
    ("bff", "ffv1", "in.mkv", "out.mkv", ()),
    ("bff", "ffv1", "in.mkv", "out_ffv1.mkv", ("--codec", "ffv1")),
])
def test_interlaced_input_stays_interlaced(tmp_path, tiny_weights, first, codec, src_name,
                                           out, extra):
    src = interlaced_clip(tmp_path / src_name, first, codec)
    dst = tmp_path / out
    assert main([str(src), "-o", str(dst), "--weights", str(tiny_weights), *FAST,
                 *extra]) == 0
    assert field_order(dst) == (FIELD_ORDER[first], [True] * 8, [first] * 8)
    lossless = extra == ("--codec", "ffv1")
    for a, b in zip(luma_planes(src), luma_planes(dst), strict=True):
        assert np.array_equal(a, b) if lossless else psnr(a, b) >= 40


def test_interlaced_luma_is_bit_exact_with_lossless_x264(tmp_path, tiny_weights):
    src = interlaced_clip(tmp_path / "in.mp4", "tff", "libx264")
    dst = tmp_path / "out.mp4"
    assert main([str(src), "-o", str(dst), "--crf", "0", "--weights", str(tiny_weights),
                 *FAST]) == 0
    assert field_order(dst)[1:] == ([True] * 8, ["tff"] * 8)
    for a, b in zip(luma_planes(src), luma_planes(dst), strict=True):
        np.testing.assert_array_equal(a, b)


def test_progressive_input_stays_progressive(tmp_path, make_clip, tiny_weights):
    src = make_clip(tmp_path / "in.mp4", frames=4, audio=False)
    dst = tmp_path / "out.mp4"
    assert main([str(src), "-o", str(dst), "--weights", str(tiny_weights), *FAST]) == 0
    with av.open(str(dst)) as container:
        assert not any(f.interlaced_frame for f in container.decode(video=0))
        assert container.streams.video[0].codec_context.field_order in (0, 1)
