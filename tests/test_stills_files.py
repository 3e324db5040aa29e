"""Still files through the command: alpha, 16-bit samples and every page of a TIFF come out
as they went in, only colorized."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import tifffile
import torch
from skimage import data

from vidcolor.cli import main
from vidcolor.color import rgb_to_lab
from vidcolor.models import build_model, save_model

FAST = ("--engine", "torch", "--device", "cpu", "--size", "64")


def photo(dtype=np.uint8) -> np.ndarray:
    """A gray photograph, 128x128, at the sample depth asked for."""
    gray = cv2.resize(data.camera(), (128, 128), interpolation=cv2.INTER_AREA)
    return gray.astype(np.uint16) * 257 if dtype == np.uint16 else gray


def alpha_ramp(dtype=np.uint8) -> np.ndarray:
    """Every alpha from transparent to opaque, across the width."""
    return np.tile(np.linspace(0, np.iinfo(dtype).max, 128).round().astype(dtype), (128, 1))


def stored(path) -> np.ndarray:
    """RGBA samples as the file holds them (OpenCV premultiplies 8-bit TIFF colour by alpha)."""
    if path.suffix == ".tif":
        return tifffile.imread(path)
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., [2, 1, 0, 3]]


def lightness(rgb: np.ndarray) -> np.ndarray:
    return rgb_to_lab(rgb[..., :3] / float(np.iinfo(rgb.dtype).max), dim=-1)[..., 0]


@pytest.fixture(scope="module")
def warm_weights(tmp_path_factory):
    """A tiny model that paints everything one confident warm colour, so colour shows."""
    config = {"arch": "plain_unet", "num_bins": 12, "channels": [4, 8, 8]}
    torch.manual_seed(0)
    model = build_model(config)
    model.head.bin_centers.copy_(torch.stack([torch.linspace(-40, 40, 12),
                                              torch.linspace(30, -30, 12)], 1))
    with torch.no_grad():
        model.head.classifier.bias[2] = 6.0
    return save_model(model, config, tmp_path_factory.mktemp("model") / "warm.safetensors")


def colorize(weights, capsys, src) -> dict:
    assert main([str(src), "--weights", str(weights), "--json", *FAST]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return json.loads(out)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16], ids=["8-bit", "16-bit"])
def test_alpha_and_depth_are_kept(tmp_path, capsys, warm_weights, suffix, dtype):
    gray, alpha = photo(dtype), alpha_ramp(dtype)
    rgba = np.dstack([gray, gray, gray, alpha])
    src = tmp_path / f"scan{suffix}"
    if suffix == ".png":
        cv2.imwrite(str(src), rgba)
    else:
        tifffile.imwrite(src, rgba, photometric="rgb", extrasamples=["unassalpha"])
    colorize(warm_weights, capsys, src)
    out = stored(tmp_path / f"scan_color{suffix}")
    assert out.shape == rgba.shape and out.dtype == dtype
    assert np.array_equal(out[..., 3], alpha)
    rgb = out[..., :3]
    solid = alpha >= np.iinfo(dtype).max // 2  # 8-bit TIFF colour read is exact to 1 code here
    l_in, l_out = lightness(rgba)[solid], lightness(rgb)[solid]
    inside = (l_in > 15) & (l_in < 85)
    assert np.abs(l_out - l_in)[inside].mean() < 1.0
    assert np.abs(rgb[..., 0].astype(int) - rgb[..., 1]).mean() > 0.5  # colour was added


def test_every_page_of_a_tiff_is_colorized(tmp_path, capsys, warm_weights):
    gray = photo()
    pages = [gray, photo(np.uint16)[:96, :64], np.dstack([gray, gray, gray, alpha_ramp()])]
    with tifffile.TiffWriter(tmp_path / "fax.tif") as tiff:
        tiff.write(pages[0])
        tiff.write(pages[1])
        tiff.write(pages[2], photometric="rgb", extrasamples=["unassalpha"])
    summary = colorize(warm_weights, capsys, tmp_path / "fax.tif")
    assert summary["pages"] == 3
    with tifffile.TiffFile(tmp_path / "fax_color.tif") as tiff:
        out = [page.asarray() for page in tiff.pages]
    assert [(p.shape, p.dtype) for p in out] == [((128, 128, 3), np.uint8),
                                                 ((96, 64, 3), np.uint16),
                                                 ((128, 128, 4), np.uint8)]
    assert np.array_equal(out[2][..., 3], pages[2][..., 3])
    for page in out:
        assert np.abs(page[..., 0].astype(int) - page[..., 1]).mean() > 0.5


def test_several_pages_into_a_one_page_format_is_refused_up_front(tmp_path, capsys):
    tifffile.imwrite(tmp_path / "fax.tif", np.stack([photo(), photo()]))
    code = main([str(tmp_path / "fax.tif"), "-o", str(tmp_path / "fax.png"),
                 "--weights", str(tmp_path / "no_such_model.safetensors"), *FAST])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith("vidcolor: error: ")
    assert "2 pages" in err and ".tif" in err  # refused before the (missing) model loads
    assert [p.name for p in tmp_path.iterdir()] == ["fax.tif"]
