"""The Python API: ``colorize_video``, ``colorize_image``, ``Colorizer``, and a light import."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from test_pipeline_support import (  # noqa: F401  (fixtures)
    cli_env,
    colorizer_fixture,
    tiny_weights_fixture,
)

import vidcolor
from vidcolor.color import lab_to_rgb, rgb_to_lab


def test_import_is_light():
    code = "import sys, vidcolor; vidcolor.__version__; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env=cli_env(), timeout=60)


def test_public_names():
    from vidcolor.colorizer import Colorizer

    assert vidcolor.Colorizer is Colorizer
    assert {"colorize_video", "colorize_image", "Colorizer"} <= set(dir(vidcolor))
    with pytest.raises(AttributeError):
        _ = vidcolor.no_such_thing


def test_colorize_video_returns_stats(tmp_path, make_clip, tiny_weights):
    src = make_clip(tmp_path / "in.mp4", frames=6)
    stats = vidcolor.colorize_video(src, tmp_path / "out.mp4", batch=3,
                                    model=vidcolor.ModelSpec(weights=str(tiny_weights), engine="torch",
                                                             device="cpu", size=64),
                                    temporal=vidcolor.TemporalSpec("off"))
    assert isinstance(stats, vidcolor.Stats)
    assert stats.frames == 6 and stats.engine == "torch" and stats.fps > 0


def test_colorize_image_from_array_and_path(tmp_path, colorizer):
    import cv2

    gray = np.tile(np.linspace(0, 255, 96, dtype=np.uint8), (64, 1))
    out = vidcolor.colorize_image(gray, colorizer=colorizer)
    assert out.shape == (64, 96, 3) and out.dtype == np.uint8
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    np.testing.assert_array_equal(vidcolor.colorize_image(tmp_path / "g.png", colorizer=colorizer),
                                  out)


def test_colour_input_is_treated_as_gray(colorizer):
    """A tinted image colorizes like the neutral image of the same lightness."""
    rng = np.random.default_rng(1)
    lightness = rng.uniform(20, 80, (64, 64)).astype(np.float32)
    tint = np.stack([lightness, np.full_like(lightness, 25), np.full_like(lightness, 40)])
    neutral = np.stack([lightness, np.zeros_like(lightness), np.zeros_like(lightness)])
    sepia = (lab_to_rgb(tint).transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8)
    gray = (lab_to_rgb(neutral).transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8)
    a = vidcolor.colorize_image(sepia, colorizer=colorizer)
    b = vidcolor.colorize_image(gray, colorizer=colorizer)
    # the inputs' lightness differs only by gamut clipping and 8-bit rounding
    la = rgb_to_lab(a.astype(np.float32) / 255, dim=-1)
    lb = rgb_to_lab(b.astype(np.float32) / 255, dim=-1)
    assert np.abs(la - lb)[..., 1:].mean() < 1.0


def test_bad_array_is_refused(colorizer):
    with pytest.raises(ValueError, match="uint8"):
        vidcolor.colorize_image(np.zeros((4, 4, 3), np.float32), colorizer=colorizer)


def test_colorize_image_keeps_alpha_and_depth_of_a_file(tmp_path, colorizer):
    """A path is read whole: a 16-bit RGBA PNG comes back 16-bit RGBA with its own alpha."""
    import cv2

    rng = np.random.default_rng(3)
    bgra = rng.integers(0, 65536, (48, 64, 4), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    out = vidcolor.colorize_image(tmp_path / "a.png", colorizer=colorizer)
    assert out.shape == (48, 64, 4) and out.dtype == np.uint16
    np.testing.assert_array_equal(out[..., 3], bgra[..., 3])


def test_colorize_image_refuses_several_pages(tmp_path, colorizer):
    import tifffile

    tifffile.imwrite(tmp_path / "two.tif", np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="2 pages"):
        vidcolor.colorize_image(tmp_path / "two.tif", colorizer=colorizer)
