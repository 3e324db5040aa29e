"""Degradations of old footage, applied to L only.

Archive film is grainy, soft, faded and often heavily compressed; a model that
only saw clean L falls apart on it. The target ab stays the clean one.
"""

from __future__ import annotations

import cv2
import numpy as np


def film_grain(lightness: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sigma = rng.uniform(1.0, 6.0)
    grain = rng.normal(0, sigma, lightness.shape).astype(np.float32)
    if rng.random() < 0.5:  # clumped grain
        grain = cv2.GaussianBlur(grain, (0, 0), 0.7) * 1.6
    return lightness + grain


def blur(lightness: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return cv2.GaussianBlur(lightness, (0, 0), rng.uniform(0.4, 1.6))


def faded_contrast(lightness: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    contrast = rng.uniform(0.55, 1.0)
    pivot = float(lightness.mean())
    return pivot + (lightness - pivot) * contrast + rng.uniform(-10, 10)


def jpeg_artefacts(lightness: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    code = np.clip(lightness * 2.55, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", code, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 60))])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 2.55 if ok else lightness


DEGRADATIONS = (film_grain, blur, faded_contrast, jpeg_artefacts)


def degrade(lightness: np.ndarray, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Apply each degradation with probability ``p / 2`` (so about p of samples get one)."""
    out = lightness.astype(np.float32)
    for fn in DEGRADATIONS:
        if rng.random() < p / 2:
            out = fn(out, rng)
    return np.clip(out, 0, 100)
