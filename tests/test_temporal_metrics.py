"""Sanity of the temporal metrics: zero for still identical frames, larger for flicker, and
slow drift seen at long frame gaps."""

from __future__ import annotations

import numpy as np
import pytest

from training.temporal_metrics import (
    camera_speed,
    cdc,
    reference_motion,
    scene_cuts,
    warp_error,
    without_cuts,
)


def frames(count: int, shift: int = 0, seed: int = 0) -> np.ndarray:
    """RGB float frames of a smooth random image, translating ``shift`` px per frame."""
    rng = np.random.default_rng(seed)
    base = rng.random((12, 20, 3)).astype(np.float32)
    big = np.kron(base, np.ones((8, 8, 1), np.float32))  # 96 x 160, blocky texture
    return np.stack([np.roll(big, t * shift, axis=1) for t in range(count)])


def test_identical_frames_score_zero() -> None:
    still = frames(6)
    assert warp_error(still, reference_motion(still)) == 0.0
    assert cdc(still) == 0.0


def test_moving_content_is_followed_by_the_flow() -> None:
    moving = frames(6, shift=3)
    assert warp_error(moving, reference_motion(moving)) < 1e-3
    assert cdc(moving) < 1e-3  # a roll keeps the colour distribution


def test_flicker_raises_both_metrics() -> None:
    still = frames(8)
    flicker = still.copy()
    flicker[1::2, ..., 0] = np.clip(flicker[1::2, ..., 0] + 0.3, 0, 1)
    motion = reference_motion(still)
    assert warp_error(flicker, motion) > 0.01
    assert cdc(flicker) > 0.01


def test_slow_drift_shows_at_long_gaps() -> None:
    """Red that drifts by 0.01 a frame on moving content: over the truth's own error, the
    warp error at gap g is the drift's square, (0.01 g)², tiny at gap 1 and 225 times that
    at gap 15."""
    moving = frames(20, shift=1)
    drifting = moving.copy()
    drifting[..., 0] += 0.01 * np.arange(20, dtype=np.float32)[:, None, None]
    for gap in (1, 5, 15):
        motion = reference_motion(moving, gap)
        excess = warp_error(drifting, motion) - warp_error(moving, motion)
        assert abs(excess - (0.01 * gap) ** 2) < 0.2 * (0.01 * gap) ** 2
    with pytest.raises(ValueError):
        warp_error(drifting, reference_motion(moving[:10], 5))


def test_pairs_across_a_scene_cut_are_left_out() -> None:
    """Two unrelated shots: the cut is found, and once the pairs spanning it are masked out
    each shot's own flicker-free frames score zero at every gap."""
    shots = np.concatenate((frames(8, seed=1), frames(8, seed=2)))
    motion = reference_motion(shots)
    assert scene_cuts(motion) == [7]
    assert warp_error(shots, motion) > 0.01
    for gap in (1, 5):
        kept = without_cuts(reference_motion(shots, gap), [7])
        assert warp_error(shots, kept) == 0.0
        assert sum(mask.any() for mask in kept.masks) == 16 - 2 * gap
    with pytest.raises(ValueError):
        scene_cuts(reference_motion(shots, 5))


def test_camera_speed_is_the_picture_motion_per_frame() -> None:
    assert camera_speed(reference_motion(frames(6))) < 0.05
    assert abs(camera_speed(reference_motion(frames(6, shift=3))) - 3) < 0.3
    assert abs(camera_speed(reference_motion(frames(12, shift=3), gap=5)) - 3) < 0.5


def test_uint8_and_float_agree() -> None:
    moving = frames(5, shift=2, seed=3)
    as_uint8 = np.rint(moving * 255).astype(np.uint8)
    assert abs(cdc(as_uint8) - cdc(as_uint8 / np.float32(255))) < 1e-9


def test_flicker_colorizer_of_the_temporal_benchmark_builds_and_prepares_frames():
    """The engine-less colorizer of ``benchmarks.temporal --colorizer flicker`` (it once
    failed to build when Colorizer began to ask its engine for a device)."""
    from benchmarks.temporal import make_colorizer

    kind, colorizer, predict = make_colorizer("flicker")
    luma = np.full((90, 160), 128, np.uint8)
    lightness = colorizer.lightness_small(luma, full_range=True)
    assert kind == "flicker" and lightness.shape == (256, 448)
    ab = np.zeros((1, 2, 256, 448), np.float32)
    assert predict(lightness[None], ab).shape == ab.shape
