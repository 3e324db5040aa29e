"""Colour-quality metrics, implemented once (training, evaluation, benchmarks).

- PSNR and SSIM on 8-bit RGB.
- Colourfulness of Hasler & Süsstrunk (2003) on 8-bit RGB; the ratio of the
  output's mean colourfulness to the ground truth's says vivid vs dull.
- AuC of the cumulative ab-error curve over thresholds 0..150 (Zhang et al.
  2016): the share of pixels whose ab error is within each threshold,
  averaged over the thresholds (1.0 = exact colour everywhere).
- Neutral chroma: the mean chroma (sqrt(a² + b²)) the output puts on pixels whose
  true colour is near gray; a colour cast on façades, metal, overcast skies and
  snow shows here first (the gray output scores 0).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from vidcolor.color import rgb_to_lab

AUC_THRESHOLDS = np.arange(0, 151)
NEUTRAL_CHROMA = 5.0  # ab units: a true colour this close to gray is a neutral (stone, metal, snow)


def psnr(output: np.ndarray, target: np.ndarray) -> float:
    mse = np.mean((output.astype(np.float64) - target.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def ssim(output: np.ndarray, target: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(output, target, channel_axis=-1, data_range=255))


def colourfulness(rgb: np.ndarray) -> float:
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def ab_of(rgb: np.ndarray) -> np.ndarray:
    return rgb_to_lab(rgb.astype(np.float32) / 255, dim=-1)[..., 1:]


def ab_auc(output: np.ndarray, target: np.ndarray) -> float:
    error = np.linalg.norm(ab_of(output) - ab_of(target), axis=-1).ravel()
    counts = np.searchsorted(np.sort(error), AUC_THRESHOLDS, side="right")
    return float(np.mean(counts / error.size))


@dataclass
class ImageScores:
    psnr: float
    ssim: float
    auc: float
    colourfulness: float
    colourfulness_gt: float
    mean_ab: tuple[float, float]
    mean_ab_gt: tuple[float, float]
    neutral_chroma_sum: float  # over the pixels whose true chroma is below NEUTRAL_CHROMA
    neutral_pixels: int


def score_image(output: np.ndarray, target: np.ndarray, with_ssim: bool = True) -> ImageScores:
    """All metrics for one uint8 RGB output against its ground truth."""
    ab_out, ab_gt = ab_of(output).reshape(-1, 2), ab_of(target).reshape(-1, 2)
    neutral = np.hypot(*ab_gt.T) < NEUTRAL_CHROMA
    return ImageScores(
        psnr=psnr(output, target),
        ssim=ssim(output, target) if with_ssim else float("nan"),
        auc=ab_auc(output, target),
        colourfulness=colourfulness(output),
        colourfulness_gt=colourfulness(target),
        mean_ab=tuple(float(v) for v in ab_out.mean(0)),
        mean_ab_gt=tuple(float(v) for v in ab_gt.mean(0)),
        neutral_chroma_sum=float(np.hypot(*ab_out[neutral].T).sum()),
        neutral_pixels=int(neutral.sum()),
    )


def summarize(scores: Iterable[ImageScores]) -> dict[str, float]:
    """Mean of each metric, plus the colourfulness ratio of the means."""
    rows = [asdict(s) for s in scores]
    out = {k: float(np.mean([r[k] for r in rows])) for k in
           ("psnr", "ssim", "auc", "colourfulness", "colourfulness_gt")}
    out["colourfulness_ratio"] = out["colourfulness"] / max(out["colourfulness_gt"], 1e-9)
    for key in ("mean_ab", "mean_ab_gt"):
        out[key + "_a"] = float(np.mean([r[key][0] for r in rows]))
        out[key + "_b"] = float(np.mean([r[key][1] for r in rows]))
    pixels = sum(r["neutral_pixels"] for r in rows)
    out["neutral_chroma"] = sum(r["neutral_chroma_sum"] for r in rows) / max(pixels, 1)
    out["images"] = len(rows)
    return out
