"""vidcolor.color is the one colour definition: check it against scikit-image and OpenCV."""

import cv2
import numpy as np
import pytest
import torch
from skimage import color as skcolor

from vidcolor.color import (
    lab_to_rgb,
    luma_to_lightness,
    luminance_to_lightness,
    rgb_to_lab,
    rgb_to_ycbcr,
    ycbcr_to_rgb,
)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def random_lab(rng, shape=(48, 40)):
    return np.stack([rng.uniform(0, 100, shape), rng.uniform(-110, 110, shape),
                     rng.uniform(-110, 110, shape)], -1)


def test_rgb_to_lab_matches_skimage_numpy_float64(rng):
    rgb = rng.random((48, 40, 3))
    np.testing.assert_allclose(rgb_to_lab(rgb, dim=-1), skcolor.rgb2lab(rgb), atol=1e-4)


def test_rgb_to_lab_matches_skimage_torch_batch(rng):
    rgb = rng.random((3, 32, 24, 3))
    batch = torch.from_numpy(rgb).permute(0, 3, 1, 2)  # [B, 3, H, W], float64
    lab = rgb_to_lab(batch).permute(0, 2, 3, 1).numpy()
    for i in range(len(rgb)):
        np.testing.assert_allclose(lab[i], skcolor.rgb2lab(rgb[i]), atol=1e-4)


def test_rgb_to_lab_float32_stays_close(rng):
    rgb = rng.random((48, 40, 3))
    lab32 = rgb_to_lab(rgb.astype(np.float32), dim=-1)
    assert lab32.dtype == np.float32
    np.testing.assert_allclose(lab32, skcolor.rgb2lab(rgb), atol=2e-3)


def test_lab_to_rgb_matches_skimage_including_out_of_gamut(rng):
    lab = random_lab(rng)
    with np.errstate(all="ignore"), pytest.warns(UserWarning):
        expected = skcolor.lab2rgb(lab)
    np.testing.assert_allclose(lab_to_rgb(lab, dim=-1), expected, atol=1e-4)


def test_lab_round_trip_in_gamut(rng):
    rgb = rng.random((16, 16, 3))
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(rgb, dim=-1), dim=-1), rgb, atol=1e-6)


def test_known_points():
    white = rgb_to_lab(np.ones((1, 3)), dim=-1)[0]
    np.testing.assert_allclose(white, [100, 0, 0], atol=0.01)
    red = rgb_to_lab(np.array([[1.0, 0, 0]]), dim=-1)[0]
    np.testing.assert_allclose(red, [53.24, 80.09, 67.20], atol=0.02)


def test_luma_to_lightness_full_and_limited_range():
    codes = np.arange(256, dtype=np.uint8)
    full = luma_to_lightness(codes, full_range=True)
    limited = luma_to_lightness(codes, full_range=False)
    assert full[0] == 0 and full[255] == pytest.approx(100, abs=1e-3)
    assert limited[16] == 0 and limited[235] == pytest.approx(100, abs=1e-3)
    assert np.all(np.diff(full) > 0)
    gray = np.full((1, 1, 3), 128 / 255)
    assert full[128] == pytest.approx(skcolor.rgb2lab(gray)[0, 0, 0], abs=1e-3)
    with pytest.raises(TypeError):
        luma_to_lightness(codes.astype(np.float32), True)


def test_ycbcr_bt601_full_range_matches_opencv(rng):
    rgb = (rng.random((32, 32, 3)) * 255).astype(np.uint8)
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb).astype(np.float64)
    ours = rgb_to_ycbcr(rgb / 255.0, "bt601", full_range=True, dim=-1)
    np.testing.assert_allclose(ours[..., 0], ycrcb[..., 0], atol=0.51)
    np.testing.assert_allclose(ours[..., 1], ycrcb[..., 2], atol=1.0)
    np.testing.assert_allclose(ours[..., 2], ycrcb[..., 1], atol=1.0)


@pytest.mark.parametrize("matrix", ["bt601", "bt709", "bt2020"])
@pytest.mark.parametrize("full_range", [True, False])
def test_ycbcr_round_trip_and_gray_has_neutral_chroma(rng, matrix, full_range):
    rgb = rng.random((8, 8, 3))
    ycc = rgb_to_ycbcr(rgb, matrix, full_range, dim=-1)
    np.testing.assert_allclose(ycbcr_to_rgb(ycc, matrix, full_range, dim=-1), rgb, atol=1e-9)
    gray = rgb_to_ycbcr(np.full((1, 3), 0.5), matrix, full_range, dim=-1)[0]
    np.testing.assert_allclose(gray[1:], [128, 128], atol=1e-9)


def test_unknown_matrix_is_a_clear_error():
    with pytest.raises(ValueError, match="matrix"):
        rgb_to_ycbcr(np.zeros((1, 3)), "bt999", dim=-1)


def test_luminance_to_lightness_matches_skimage_on_grays():
    values = np.linspace(0, 1, 257)
    gray = np.repeat(values[:, None], 3, axis=1)
    linear = np.where(values > 0.04045, ((values + 0.055) / 1.055) ** 2.4, values / 12.92)
    expected = skcolor.rgb2lab(gray)[:, 0]
    np.testing.assert_allclose(luminance_to_lightness(linear), expected, atol=1e-6)
