"""Still images: every supported format to RGB uint8 and back, atomically."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vidcolor.io import InputError, OutputError, is_image, read_image, write_image


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
