"""The colorizer keeps the input's luma and only replaces chroma."""

import cv2
import numpy as np
import pytest
import torch
from skimage import data

import vidcolor.colorizer
from vidcolor.backends.torch_engine import TorchEngine
from vidcolor.color import lab_to_rgb, rgb_to_lab, rgb_to_ycbcr
from vidcolor.colorizer import Colorizer, compose_rgb
from vidcolor.models import build_model


@pytest.fixture(scope="module")
def colorizer():
    torch.manual_seed(0)
    model = build_model({"arch": "plain_unet", "num_bins": 12, "channels": [4, 8, 8]})
    model.head.bin_centers.copy_(torch.stack([torch.linspace(-40, 40, 12),
                                              torch.linspace(30, -30, 12)], 1))
    with torch.no_grad():
        model.head.classifier.bias[2] = 6.0  # a confident warm colour, so chroma is visible
    return Colorizer(TorchEngine(model.eval(), "cpu"), size=64)


@pytest.mark.parametrize(("h", "w", "expected"), [(480, 640, (64, 96)), (1080, 1920, (64, 128)),
                                                  (300, 100, (192, 64)), (20, 20, (64, 64))])
def test_model_size_keeps_aspect_in_multiples_of_32(colorizer, h, w, expected):
    assert colorizer.model_size(h, w) == expected


def test_still_keeps_its_own_lightness(colorizer):
    rgb = data.astronaut()[::2, ::2]
    out = colorizer.colorize_rgb(rgb)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    l_in = rgb_to_lab(rgb.astype(np.float32) / 255, dim=-1)[..., 0]
    l_out = rgb_to_lab(out.astype(np.float32) / 255, dim=-1)[..., 0]
    inside = (l_in > 15) & (l_in < 85)  # away from where the gamut clips chroma
    assert np.abs(l_out - l_in)[inside].mean() < 1.0
    assert np.corrcoef(l_in.ravel(), l_out.ravel())[0, 1] > 0.995
    chroma = np.hypot(*rgb_to_lab(out.astype(np.float32) / 255, dim=-1)[..., 1:].transpose(2, 0, 1))
    assert chroma.mean() > 3  # colour was added


def test_colour_input_is_treated_as_gray(colorizer):
    rgb = data.coffee()[::3, ::3]
    gray = rgb_to_lab(rgb.astype(np.float32) / 255, dim=-1)
    gray[..., 1:] = 0
    gray_rgb = np.clip(lab_to_rgb(gray, dim=-1) * 255 + 0.5, 0, 255).astype(np.uint8)
    diff = np.abs(colorizer.colorize_rgb(rgb).astype(int) - colorizer.colorize_rgb(gray_rgb))
    assert diff.mean() < 1.5


def test_video_planes_leave_luma_alone(colorizer):
    rng = np.random.default_rng(0)
    luma = rng.integers(16, 236, (90, 160), dtype=np.uint8)
    small = colorizer.lightness_small(luma, full_range=False)
    assert small.shape == (64, 128) and small.dtype == np.float32
    ab = colorizer.infer(small[None, None])
    assert ab.shape == (1, 2, 64, 128)
    cb, cr = colorizer.chroma_planes(ab[0], small, (45, 80), "bt709", full_range=False)
    assert cb.shape == cr.shape == (45, 80) and cb.dtype == np.uint8


def test_chroma_planes_encode_the_predicted_colour(colorizer):
    lightness = np.full((64, 64), 60.0, np.float32)
    ab = np.zeros((2, 64, 64), np.float32)
    ab[0], ab[1] = 40.0, 20.0  # a warm red-orange
    cb, cr = colorizer.chroma_planes(ab, lightness, (32, 32), "bt601", full_range=True)
    rgb = lab_to_rgb(np.array([60.0, 40.0, 20.0]).reshape(3, 1, 1))
    expected = rgb_to_ycbcr(rgb, "bt601", True)[:, 0, 0]
    assert abs(int(cb[5, 5]) - expected[1]) <= 1 and abs(int(cr[5, 5]) - expected[2]) <= 1
    assert cr[5, 5] > 140  # red-ish


def test_bands_of_rows_leave_no_seams(monkeypatch):
    """A still is composed a few rows at a time; the result is the whole-image one."""
    rng = np.random.default_rng(0)
    lightness = rng.uniform(0, 100, (53, 71)).astype(np.float32)
    ab = rng.normal(0, 30, (2, 8, 12)).astype(np.float32)
    ab_full = np.stack([cv2.resize(c, (71, 53), interpolation=cv2.INTER_LINEAR) for c in ab])
    whole = lab_to_rgb(np.concatenate((lightness[None], ab_full))).transpose(1, 2, 0)
    whole = np.clip(whole * 255 + 0.5, 0, 255).astype(np.uint8)
    monkeypatch.setattr(vidcolor.colorizer, "BAND_PIXELS", 71 * 4)  # 4 rows, the last band 1
    banded = compose_rgb(lightness, ab)
    assert np.abs(banded.astype(int) - whole).max() <= 1
    assert np.mean(banded != whole) < 0.001


def test_16_bit_still_keeps_its_lightness_at_16_bits(colorizer):
    ramp = np.linspace(10000, 50000, 2000).round().astype(np.uint16)
    gray = np.tile(ramp, (40, 1))
    out = colorizer.colorize_rgb(gray)
    assert out.dtype == np.uint16 and out.shape == (40, 2000, 3)
    l_in = rgb_to_lab(np.repeat(gray[..., None], 3, axis=2) / 65535.0, dim=-1)[..., 0]
    l_out = rgb_to_lab(out / 65535.0, dim=-1)[..., 0]
    assert np.abs(l_out - l_in).mean() < 1.0
    assert len(np.unique(out[..., 1])) > 1000  # finer steps than 8 bits can hold
