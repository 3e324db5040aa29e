"""Archive film renders of colour photos: the lightness an old film stock would have recorded.

Early stock was orthochromatic: blind to red and most sensitive to blue, so grass, foliage,
lips and red cloth come out dark and skies white. Panchromatic stock, later, saw roughly as
the eye does. A model that only saw the eye's lightness reads dark textured ground as soil
and paints archive lawns brown, so training renders some samples' L through a sensitivity
drawn between the two, a tone curve, uneven exposure, and scratches and dust. The target ab
stays the photo's own.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from vidcolor.color import luminance_to_lightness, srgb_to_linear

ORTHOCHROMATIC = np.array([0.05, 0.40, 0.55])  # weights of linear R, G, B
PANCHROMATIC = np.array([0.2126, 0.7152, 0.0722])  # the eye's luminance (sRGB/BT.709)


def random_sensitivity(rng: np.random.Generator) -> np.ndarray:
    """Linear-RGB weights (summing to 1) between orthochromatic and panchromatic stock."""
    t = rng.uniform(0.0, 1.0)
    weights = ((1 - t) * ORTHOCHROMATIC + t * PANCHROMATIC) * rng.uniform(0.85, 1.15, 3)
    return weights / weights.sum()


def render_lightness(rgb: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """uint8 sRGB [H, W, 3] -> L* [H, W] float32 of a stock with these linear-RGB weights."""
    linear = srgb_to_linear(torch.from_numpy(np.ascontiguousarray(rgb)).float() / 255)
    luminance = linear @ torch.as_tensor(weights, dtype=torch.float32)
    return luminance_to_lightness(luminance).numpy()


def orthochromatic_lightness(rgb: np.ndarray) -> np.ndarray:
    """The deterministic archive render used for validation: orthochromatic, no other effect."""
    return render_lightness(rgb, ORTHOCHROMATIC)


def tone_curve(lightness: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Crushed blacks, blown highlights and a random gamma: the print's contrast, not the eye's."""
    v = lightness / 100
    black, white = rng.uniform(0.0, 0.12), rng.uniform(0.82, 1.0)
    v = np.clip((v - black) / (white - black), 0, 1) ** rng.uniform(0.7, 1.4)
    s_curve = v * v * (3 - 2 * v)
    return 100 * (v + rng.uniform(0, 0.6) * (s_curve - v))


def uneven_exposure(lightness: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Exposure flicker (a global shift) and a vignette or a gradient across the frame."""
    h, w = lightness.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    radius = np.hypot((yy - h / 2) / h, (xx - w / 2) / w)
    angle = rng.uniform(0, 2 * np.pi)
    gradient = (np.cos(angle) * (xx / w - 0.5) + np.sin(angle) * (yy / h - 0.5))
    shading = rng.uniform(0, 30) * radius ** 2 + rng.uniform(-8, 8) * gradient
    return lightness + rng.uniform(-8, 8) - shading


def scratches_and_dust(lightness: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Vertical scratches and specks of dust, bright (on the negative) or dark (on the print)."""
    out = np.ascontiguousarray(lightness, dtype=np.float32)
    h, w = out.shape
    for _ in range(int(rng.integers(0, 3))):
        x, top = int(rng.integers(0, w)), int(rng.integers(0, h // 2 + 1))
        bottom = int(rng.integers(top + h // 4, h + 1))
        cv2.line(out, (x, top), (x + int(rng.integers(-2, 3)), bottom),
                 float(rng.choice([4.0, 96.0])), 1)
    for _ in range(int(rng.integers(0, 6))):
        center = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.circle(out, center, int(rng.integers(1, 3)), float(rng.choice([2.0, 98.0])), -1)
    return out


def film_lightness(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 sRGB [H, W, 3] -> L* [H, W] float32 as a random archive film would show it."""
    lightness = render_lightness(rgb, random_sensitivity(rng))
    lightness = tone_curve(lightness, rng)
    if rng.random() < 0.5:
        lightness = uneven_exposure(lightness, rng)
    if rng.random() < 0.3:
        lightness = scratches_and_dust(lightness, rng)
    return np.clip(lightness, 0, 100).astype(np.float32)
