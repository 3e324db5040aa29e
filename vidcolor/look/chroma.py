"""Saturation, warmth and tint: a gain and a shift of the predicted CIELAB a,b.

They act on the ab that the frame chain paints, at the network's resolution, after the
temporal stage, so they cost a few array operations on a small image and never touch the
luma.
"""

from __future__ import annotations

import numpy as np


def adjust(ab: np.ndarray, saturation: float = 1.0, warmth: float = 0.0,
           tint: float = 0.0) -> np.ndarray:
    """ab [2, h, w] -> a new ab: times ``saturation``, plus ``tint`` on a, ``warmth`` on b."""
    out = ab * np.float32(saturation)
    out[0] += np.float32(tint)
    out[1] += np.float32(warmth)
    return out
