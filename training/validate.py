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

from .data import find_files, read_rgb
from .metrics import score_image, summarize


def gray_of(rgb: np.ndarray) -> np.ndarray:
    """The do-nothing output: the photo's own L* with a = b = 0."""
    lab = rgb_to_lab(rgb.astype(np.float32) / 255, dim=-1)
    lab[..., 1:] = 0
    return np.clip(lab_to_rgb(lab, dim=-1) * 255 + 0.5, 0, 255).astype(np.uint8)


def photos(folder: str | Path, limit: int | None = None) -> Iterator[tuple[Path, np.ndarray]]:
    paths = find_files(folder, IMAGE_SUFFIXES)
    if limit:
        paths = paths[:: max(1, len(paths) // limit)][:limit]
    for path in paths:
        rgb = read_rgb(path)
        if rgb is not None:
            yield path, rgb


def score_folder(colorizer: Colorizer, folder: str | Path, limit: int | None = None,
                 with_ssim: bool = True) -> dict[str, dict[str, float]]:
    """Metrics of the colorizer and of the gray output on the same photos."""
    ours, gray = [], []
    for _, rgb in photos(folder, limit):
        ours.append(score_image(colorizer.colorize_rgb(gray_of(rgb)), rgb, with_ssim))
        gray.append(score_image(gray_of(rgb), rgb, with_ssim))
    return {"model": summarize(ours), "gray": summarize(gray)}


def quick_validation(model: nn.Module, folder: str | Path, limit: int = 24) -> dict[str, float]:
    """A few headline numbers during training (no SSIM, a subset of the photos)."""
    colorizer = Colorizer(TorchEngine(model.eval(), "cpu"), size=256)
    result = score_folder(colorizer, folder, limit, with_ssim=False)
    m, g = result["model"], result["gray"]
    return {"val_psnr": round(m["psnr"], 3), "gray_psnr": round(g["psnr"], 3),
            "val_auc": round(m["auc"], 4), "gray_auc": round(g["auc"], 4),
            "val_cf_ratio": round(m["colourfulness_ratio"], 3)}
