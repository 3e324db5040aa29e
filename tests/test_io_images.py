"""Still images: every supported format to RGB uint8 and back, atomically; pages, alpha and
16-bit samples kept as they are."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest
import tifffile

from vidcolor.io import InputError, OutputError, is_image, read_image, write_image
from vidcolor.io.images import check_format, read_pages, write_pages


def rgb_image(height: int = 24, width: int = 32) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 7 % 256, y * 9 % 256, (x + y) * 5 % 256], axis=-1).astype(np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".webp", ".jpg"])
def test_write_then_read_round_trip(tmp_path, suffix):
    image = rgb_image()
    path = write_image(tmp_path / f"a{suffix}", image)
    assert is_image(path) and sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    back = read_image(path)
    assert back.dtype == np.uint8 and back.shape == image.shape
    tolerance = 0 if suffix in (".png", ".bmp", ".tif") else 12
    assert np.abs(back.astype(int) - image).mean() <= tolerance


def test_16_bit_gray_and_alpha_become_rgb_uint8(tmp_path):
    gray16 = (np.arange(24 * 32, dtype=np.uint16).reshape(24, 32) * 80).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "g16.png"), gray16)
    image = read_image(tmp_path / "g16.png")
    assert image.shape == (24, 32, 3) and image.dtype == np.uint8
    expected = ((gray16.astype(np.uint32) + 128) // 257).astype(np.uint8)
    assert np.array_equal(image[..., 0], expected) and np.array_equal(image[..., 2], expected)

    bgra = np.dstack([rgb_image()[..., ::-1], np.full((24, 32), 7, np.uint8)])
    cv2.imwrite(str(tmp_path / "alpha.png"), bgra)
    assert np.array_equal(read_image(tmp_path / "alpha.png"), rgb_image())


def test_exif_orientation_is_applied(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    image = rgb_image(16, 40)
    exif = pil.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    pil.fromarray(image).save(tmp_path / "turned.jpg", exif=exif, quality=95)
    assert read_image(tmp_path / "turned.jpg").shape == (40, 16, 3)


def test_unreadable_images_raise_clean_errors(tmp_path):
    (tmp_path / "text.png").write_text("not an image")
    (tmp_path / "empty.jpg").write_bytes(b"")
    for name in ("text.png", "empty.jpg", "missing.png"):
        with pytest.raises(InputError) as err:
            read_image(tmp_path / name)
        assert "\n" not in str(err.value)


def test_write_refuses_input_path_and_unknown_extensions(tmp_path):
    src = write_image(tmp_path / "in.png", rgb_image())
    with pytest.raises(OutputError, match="refusing to overwrite the input"):
        write_image(src, rgb_image(), src=src, overwrite=True)
    with pytest.raises(OutputError, match="unsupported image extension"):
        write_image(tmp_path / "out.gif", rgb_image())
    with pytest.raises(OutputError, match="already exists"):
        write_image(src, rgb_image())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]


def ramp_alpha(height: int = 24, width: int = 32, dtype=np.uint8) -> np.ndarray:
    """Every alpha value from transparent to opaque, across the width."""
    top = np.iinfo(dtype).max
    return np.tile(np.linspace(0, top, width).round().astype(dtype), (height, 1))


@pytest.mark.parametrize("suffix", [".png", ".webp", ".tif", ".bmp"])
def test_alpha_is_read_and_written_bit_exact(tmp_path, suffix):
    rgba = np.dstack([rgb_image(), ramp_alpha()])
    page = read_pages(write_image(tmp_path / f"a{suffix}", rgba))[0]
    assert page.shape == rgba.shape and page.dtype == np.uint8
    assert np.array_equal(page[..., 3], rgba[..., 3])
    opaque = rgba[..., 3] == 255
    tolerance = 12 if suffix == ".webp" else 0
    assert np.abs(page[opaque][:, :3].astype(int) - rgba[opaque][:, :3]).mean() <= tolerance


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_pages_stay_16_bit(tmp_path, suffix):
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 65536, (24, 32, 4), dtype=np.uint16)
    gray = rng.integers(0, 65536, (24, 32), dtype=np.uint16)
    for name, image in (("rgba", rgba), ("gray", gray)):
        page = read_pages(write_image(tmp_path / f"{name}{suffix}", image))[0]
        assert page.dtype == np.uint16 and np.array_equal(page, image)


def test_16_bit_is_reduced_where_the_format_has_8(tmp_path):
    rgb16 = rgb_image().astype(np.uint16) * 257
    assert np.array_equal(read_pages(write_image(tmp_path / "a.bmp", rgb16))[0], rgb_image())


def test_jpeg_drops_alpha_and_says_so(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        path = write_image(tmp_path / "a.jpg", np.dstack([rgb_image(), ramp_alpha()]))
    assert read_pages(path)[0].shape == (24, 32, 3)
    assert "alpha" in caplog.text


def test_multipage_tiff_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    pages = [rng.integers(0, 65536, (10, 12), dtype=np.uint16), rgb_image(),
             rng.integers(0, 65536, (7, 5, 4), dtype=np.uint16)]
    back = read_pages(write_pages(tmp_path / "pages.tif", pages))
    assert len(back) == 3
    for page, expected in zip(back, pages, strict=True):
        assert page.dtype == expected.dtype and np.array_equal(page, expected)
    with tifffile.TiffFile(tmp_path / "pages.tif") as tiff:  # alpha marked as such for others
        assert [tuple(p.extrasamples) for p in tiff.pages] == [(), (), (2,)]
    assert np.array_equal(read_image(tmp_path / "pages.tif"), np.repeat(
        ((pages[0].astype(np.uint32) + 128) // 257).astype(np.uint8)[..., None], 3, axis=2))


def test_several_pages_only_go_to_tiff(tmp_path):
    check_format(tmp_path / "ok.tif", 3)
    with pytest.raises(OutputError, match="3 pages"):
        check_format(tmp_path / "one.png", 3)
    with pytest.raises(OutputError, match="2 pages"):
        write_pages(tmp_path / "one.jpg", [rgb_image(), rgb_image()])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("layout", ["strips", "planes", "tiles"])
def test_tiff_unassociated_alpha_comes_back_unpremultiplied(tmp_path, layout):
    """libtiff premultiplies 8-bit colour by alpha as OpenCV reads it; the page has the colour
    as stored, so a translucent pixel keeps its own lightness."""
    rgba = np.dstack([rgb_image(32, 32), ramp_alpha(32, 32)])
    stored = np.moveaxis(rgba, -1, 0) if layout == "planes" else rgba
    tifffile.imwrite(tmp_path / "a.tif", stored, photometric="rgb", extrasamples=["unassalpha"],
                     planarconfig="separate" if layout == "planes" else "contig",
                     tile=(16, 16) if layout == "tiles" else None)
    page = read_pages(tmp_path / "a.tif")[0]
    assert np.array_equal(page[..., 3], rgba[..., 3])
    solid = rgba[..., 3] >= 128  # where 8-bit premultiplication loses under one code
    assert np.abs(page[solid][:, :3].astype(int) - rgba[solid][:, :3]).max() <= 1


def test_tiff_without_alpha_gets_none(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    pil.fromarray(rgb_image()).convert("CMYK").save(tmp_path / "cmyk.tif")
    assert read_pages(tmp_path / "cmyk.tif")[0].shape == (24, 32, 3)  # libtiff adds an opaque one


def test_gray_tiff_alpha_that_opencv_drops_is_reported(tmp_path, caplog):
    gray_alpha = np.dstack([rgb_image()[..., 0], ramp_alpha()])
    tifffile.imwrite(tmp_path / "ga.tif", gray_alpha, photometric="minisblack",
                     extrasamples=["unassalpha"])
    with caplog.at_level(logging.WARNING):
        page = read_pages(tmp_path / "ga.tif")[0]
    assert page.shape == (24, 32) and "alpha" in caplog.text


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_turns_colour_and_alpha_alike(tmp_path, suffix, orientation):
    """OpenCV turns the picture itself only when it drops alpha: its colour decode is the
    reference, and the alpha (a copy of the red channel here) must turn with the colour."""
    pil = pytest.importorskip("PIL.Image")
    image = rgb_image(16, 40)
    exif = pil.Exif()
    exif[0x0112] = orientation
    mode, pixels = ("RGB", image) if suffix == ".jpg" else ("RGBA", np.dstack([image, image[..., 0]]))
    pil.fromarray(pixels, mode).save(tmp_path / f"turned{suffix}", exif=exif, quality=95,
                                     lossless=True)
    page = read_pages(tmp_path / f"turned{suffix}")[0]
    reference = cv2.imdecode(np.fromfile(tmp_path / f"turned{suffix}", np.uint8),
                             cv2.IMREAD_COLOR_RGB)
    assert np.array_equal(page[..., :3], reference)
    assert page.shape[:2] == ((40, 16) if orientation >= 5 else (16, 40))
    if suffix != ".jpg":
        assert np.array_equal(page[..., 3], page[..., 0])
