"""Colourist controls on pixel values: chroma controls keep the luma, luma steps change it,
saturation 0 is gray, a reference pulls the colours toward its own, negative undoes itself."""

from __future__ import annotations

import pickle
from fractions import Fraction

import av
import numpy as np
import pytest
from test_pipeline_support import colorizer_fixture, tiny_weights_fixture  # noqa: F401

import vidcolor
from vidcolor.color import rgb_to_lab
from vidcolor.framecolor import FrameColor
from vidcolor.live.colorize import FrameColorizer
from vidcolor.look.review import _plane
from vidcolor.specs import LookSpec


def gray_frame(width: int = 96, height: int = 64, full_range: bool = False) -> av.VideoFrame:
    """A textured gray yuv420p frame (neutral chroma), dark on the left, bright on the right."""
    y, x = np.mgrid[0:height, 0:width]
    luma = (30 + 170 * x / width + 25 * np.sin(x / 7.0) * np.cos(y / 5.0)).astype(np.uint8)
    if not full_range:
        luma = (16 + luma.astype(np.uint16) * 219 // 255).astype(np.uint8)
    frame = av.VideoFrame(width, height, "yuv420p")
    for plane, value in zip(frame.planes, (None, 128, 128), strict=True):
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
        rows[...] = 128 if value else 0
        if value is None:
            rows[:height, :width] = luma
    frame.color_range = 2 if full_range else 1
    frame.pts, frame.time_base = 0, Fraction(1, 24)
    return frame


def paint(colorizer, look: LookSpec, frame: av.VideoFrame) -> av.VideoFrame:
    """The frame through the chain, with a colourful made-up prediction (the tiny test
    network's is nearly gray)."""
    chain = FrameColor(colorizer, "yuv420p", look.build())
    slot = chain.prepare(frame)
    chain.infer([slot])
    h, w = slot.predicted.shape[1:]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    return chain.finish(slot, np.stack((20 * np.sin(x / 3), -15 + 10 * np.cos(y / 4))))


CHROMA_LOOKS = {
    "saturation": LookSpec(saturation=1.7),
    "warmth and tint": LookSpec(warmth=12, tint=-6),
    "reference": LookSpec(reference="REFERENCE"),
}


@pytest.fixture(name="reference")
def reference_fixture(tmp_path):
    """A warm still from scikit-image (coffee) as a reference file."""
    import cv2
    from skimage import data

    path = tmp_path / "reference.png"
    cv2.imwrite(str(path), cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR))
    return path


@pytest.mark.parametrize("name", CHROMA_LOOKS)
def test_chroma_controls_keep_the_luma_bit_exact(colorizer, reference, name):
    look = CHROMA_LOOKS[name]
    if look.reference:
        look = LookSpec(reference=str(reference))
    source = gray_frame()
    plain, styled = paint(colorizer, LookSpec(), source), paint(colorizer, look, gray_frame())
    np.testing.assert_array_equal(_plane(styled, 0), _plane(source, 0))
    assert not np.array_equal(_plane(styled, 1), _plane(plain, 1))  # the chroma did change


def test_saturation_zero_is_gray(colorizer):
    out = paint(colorizer, LookSpec(saturation=0), gray_frame())
    assert (_plane(out, 1) == 128).all() and (_plane(out, 2) == 128).all()


def test_warmth_and_tint_shift_b_and_a():
    look = LookSpec(saturation=0.5, warmth=7, tint=-3).build()
    ab = np.full((2, 8, 8), 10.0, np.float32)
    out = look.chroma(ab, np.full((8, 8), 50.0, np.float32))
    np.testing.assert_allclose(out[0], 10 * 0.5 - 3)
    np.testing.assert_allclose(out[1], 10 * 0.5 + 7)


def test_reference_moves_mean_ab_toward_the_reference(colorizer, reference):
    from skimage import data

    gray = data.camera()
    target = rgb_to_lab(data.coffee().astype(np.float32) / 255, dim=-1)[..., 1:].mean(axis=(0, 1))

    def mean_ab(look: LookSpec) -> np.ndarray:
        rgb = vidcolor.colorize_image(gray, colorizer=colorizer, look=look)
        return rgb_to_lab(rgb.astype(np.float32) / 255, dim=-1)[..., 1:].mean(axis=(0, 1))

    before = np.linalg.norm(mean_ab(LookSpec()) - target)
    after = np.linalg.norm(mean_ab(LookSpec(reference=str(reference))) - target)
    assert after < 0.5 * before, (before, after)


@pytest.mark.parametrize("steps", ["clahe=2", "tonemap=0.6", "contrast=1.3,brightness=0.05",
                                   "power=0.7", "log=10", "sharpen=1", "rgb=1.2:1:0.8"])
def test_each_enhance_step_changes_the_luma(colorizer, steps):
    source = gray_frame()
    out = paint(colorizer, LookSpec(enhance=steps), gray_frame())
    assert not np.array_equal(_plane(out, 0), _plane(source, 0))


@pytest.mark.parametrize("full_range", [False, True])
def test_negative_of_a_negative_is_the_positive(colorizer, full_range):
    positive = gray_frame(full_range=full_range)
    negative = gray_frame(full_range=full_range)
    y = _plane(negative, 0)
    low, high = (0, 255) if full_range else (16, 235)
    y[...] = low + high - y
    want = paint(colorizer, LookSpec(), positive)
    got = paint(colorizer, LookSpec(negative=True), negative)
    for index in range(3):
        np.testing.assert_array_equal(_plane(got, index), _plane(want, index))


def test_negative_still_equals_the_positive(colorizer):
    from skimage import data

    gray = data.camera()
    np.testing.assert_array_equal(
        vidcolor.colorize_image(255 - gray, colorizer=colorizer, look=LookSpec(negative=True)),
        vidcolor.colorize_image(gray, colorizer=colorizer))


def test_still_luma_steps_change_the_lightness_only_when_asked(colorizer):
    from skimage import data

    gray = data.camera()[::4, ::4]
    lightness = [rgb_to_lab(vidcolor.colorize_image(gray, colorizer=colorizer, look=look)
                            .astype(np.float32) / 255, dim=-1)[..., 0]
                 for look in (LookSpec(), LookSpec(saturation=1.5), LookSpec(enhance="clahe=3"))]
    assert np.abs(lightness[1] - lightness[0]).max() < 1.0  # gamut clipping aside
    assert np.abs(lightness[2] - lightness[0]).mean() > 2.0


def test_live_frames_take_the_look(colorizer):
    paint_live = FrameColorizer(colorizer, None, LookSpec(saturation=0).build())
    source = gray_frame()
    out = paint_live(gray_frame())
    np.testing.assert_array_equal(_plane(out, 0), _plane(source, 0))
    assert (_plane(out, 1) == 128).all()


def test_look_spec_spells_its_chain_in_order_and_pickles():
    spec = LookSpec(enhance=" sharpen=0.5 , CLAHE=2,rgb=1.1:1:0.9")
    assert spec.enhance == "clahe=2,sharpen=0.5,rgb=1.1:1:0.9"
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert pickle.loads(pickle.dumps(spec.build())).steps == spec.steps
    assert not LookSpec(saturation=2, warmth=5).changes_luma and spec.changes_luma


@pytest.mark.parametrize("kwargs, words", [
    ({"saturation": -1}, "saturation"), ({"warmth": 80}, "warmth"),
    ({"enhance": "blur=1"}, "unknown enhance step"), ({"enhance": "clahe=2,clahe=3"}, "twice"),
    ({"enhance": "rgb=1:1"}, "rgb=X:X:X"), ({"enhance": "sharpen=9"}, "within"),
])
def test_bad_looks_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        LookSpec(**kwargs)
