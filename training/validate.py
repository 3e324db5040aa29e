"""Score a colorizer on a folder of colour photos (grayed first), beside the gray baseline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from torch import nn

from vidcolor.backends.torch_engine import TorchEngine
from vidcolor.color import lab_to_rgb, rgb_to_lab
from vidcolor.colorizer import Colorizer
from vidcolor.io.images import IMAGE_SUFFIXES

from .data import find_files, in_calibration_split, read_rgb
from .film import orthochromatic_lightness
from .metrics import score_image, summarize


def gray_of(rgb: np.ndarray) -> np.ndarray:
    """The do-nothing output: the photo's own L* with a = b = 0."""
    lab = rgb_to_lab(rgb.astype(np.float32) / 255, dim=-1)
    lab[..., 1:] = 0
    return np.clip(lab_to_rgb(lab, dim=-1) * 255 + 0.5, 0, 255).astype(np.uint8)


def archive_gray_of(rgb: np.ndarray) -> np.ndarray:
    """The photo as orthochromatic film saw it (red-blind, blue-heavy), as a gray image: the
    archive validation variant's input. Its luma is the film's, so only ab is scored."""
    lab = np.zeros(rgb.shape, np.float32)
    lab[..., 0] = orthochromatic_lightness(rgb)
    return np.clip(lab_to_rgb(lab, dim=-1) * 255 + 0.5, 0, 255).astype(np.uint8)


RENDERS = {"eye": gray_of, "archive": archive_gray_of}


def photos(folder: str | Path, limit: int | None = None,
           calibration: bool = False) -> Iterator[tuple[Path, np.ndarray]]:
    """The photos of ``folder`` (every n-th when ``limit``); ``calibration``: only those of
    the calibration split, which training leaves out."""
    paths = find_files(folder, IMAGE_SUFFIXES)
    if calibration:
        paths = [p for p in paths if in_calibration_split(p)]
    if limit:
        paths = paths[:: max(1, len(paths) // limit)][:limit]
    for path in paths:
        rgb = read_rgb(path)
        if rgb is not None:
            yield path, rgb


def score_folder(colorizer: Colorizer, folder: str | Path, limit: int | None = None,
                 with_ssim: bool = True, render: str = "eye") -> dict[str, dict[str, float]]:
    """Metrics of the colorizer and of the gray output on the same photos, grayed as the eye
    sees them or, with ``render="archive"``, as orthochromatic film did (then only the ab
    metrics mean anything: the luma is the film's, not the photo's)."""
    to_gray = RENDERS[render]
    ours, gray = [], []
    for _, rgb in photos(folder, limit):
        gray_input = to_gray(rgb)
        ours.append(score_image(colorizer.colorize_rgb(gray_input), rgb, with_ssim))
        gray.append(score_image(gray_input, rgb, with_ssim))
    return {"model": summarize(ours), "gray": summarize(gray)}


def quick_validation(model: nn.Module, folder: str | Path, limit: int = 24) -> dict[str, float]:
    """A few headline numbers during training (no SSIM, a subset of the photos)."""
    colorizer = Colorizer(TorchEngine(model.eval(), "cpu"), size=256)
    result = score_folder(colorizer, folder, limit, with_ssim=False)
    m, g = result["model"], result["gray"]
    return {"val_psnr": round(m["psnr"], 3), "gray_psnr": round(g["psnr"], 3),
            "val_auc": round(m["auc"], 4), "gray_auc": round(g["auc"], 4),
            "val_cf_ratio": round(m["colourfulness_ratio"], 3)}
