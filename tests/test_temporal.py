"""The temporal stage on synthetic sequences: steadier colour, clean cuts, no ghosts, order kept."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from training.temporal_metrics import reference_motion, warp_error
from vidcolor.color import lab_to_rgb
from vidcolor.temporal import TemporalStage

H, W = 96, 160
GREEN, RED = (-30.0, 30.0), (55.0, 35.0)
# The hues a per-frame colorizer gives one lawn: green, grey-blue, beige, olive, yellow.
WANDERING = np.array([GREEN, (-5.0, -15.0), (5.0, 20.0), (-10.0, 25.0), (0.0, 45.0)], np.float32)


def texture(seed: int, h: int, w: int, lo: float, hi: float) -> np.ndarray:
    """Smooth random lightness in lo..hi, trackable by optical flow."""
    noise = np.random.default_rng(seed).random((h, w)).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), 2.0)
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    return lo + (hi - lo) * noise


def scene(frames: int, seed: int = 0, pan: int = 2, box_speed: int = 0) -> tuple:
    assert 8 + (frames - 1) * box_speed + 28 <= W, "the box must stay in the frame"
    """A panning textured background (green) and optionally a fast textured box (red).

    Returns (L [T, H, W], true ab [T, 2, H, W], box masks [T, H, W]).
    """
    margin = pan * frames + 8
    ground = texture(seed, H + margin, W + margin, 30, 70)
    box_tex = texture(seed + 1, 28, 28, 35, 75)
    lightness, ab, masks = [], [], []
    for t in range(frames):
        L = ground[t * pan // 2 : t * pan // 2 + H, t * pan : t * pan + W].copy()
        mask = np.zeros((H, W), bool)
        if box_speed:
            x = 8 + t * box_speed
            L[34:62, x : x + 28] = box_tex
            mask[34:62, x : x + 28] = True
        colour = np.where(mask[None], np.array(RED)[:, None, None], np.array(GREEN)[:, None, None])
        lightness.append(L)
        ab.append(colour.astype(np.float32))
        masks.append(mask)
    return np.stack(lightness), np.stack(ab), np.stack(masks)


def flickery(ab: np.ndarray, seed: int = 0) -> np.ndarray:
    """Per-frame colorizer flicker: a random colour cast each frame, and a hue flip on some."""
    rng = np.random.default_rng(seed)
    out = ab + rng.normal(0, 10, (len(ab), 2, 1, 1)).astype(np.float32)
    out[rng.random(len(ab)) < 0.3] *= -1
    return out


def wandering(ab: np.ndarray, hold: int = 4) -> np.ndarray:
    """A colorizer that changes its mind about the whole picture's hue every ``hold`` frames."""
    hues = WANDERING[np.arange(len(ab)) // hold % len(WANDERING)]
    return np.broadcast_to(hues[:, :, None, None], ab.shape).astype(np.float32)


def run(stage: TemporalStage, lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    out = []
    for i, (L, a) in enumerate(zip(lightness, ab, strict=True)):
        out += stage.push(i, L, a)
    out += stage.flush()
    assert [k for k, _ in out] == list(range(len(ab)))
    return np.stack([a for _, a in out])


def rgb(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    lab = np.concatenate((lightness[:, None], ab), axis=1)
    return lab_to_rgb(lab, dim=1).transpose(0, 2, 3, 1)


@pytest.mark.parametrize("mode", ["causal", "bidirectional"])
def test_stage_cuts_warp_error_at_least_in_half(mode: str) -> None:
    lightness, true_ab, _ = scene(20, box_speed=6)
    predicted = flickery(true_ab)
    motion = reference_motion(rgb(lightness, true_ab))
    before = warp_error(rgb(lightness, predicted), motion)
    after = warp_error(rgb(lightness, run(TemporalStage(mode), lightness, predicted)), motion)
    assert after < 0.5 * before


def test_off_is_identity() -> None:
    lightness, true_ab, _ = scene(6)
    predicted = flickery(true_ab)
    out = run(TemporalStage("off"), lightness, predicted)
    assert np.array_equal(out, predicted)
    zero = run(TemporalStage("causal", strength=0.0), lightness, predicted)
    assert np.array_equal(zero, predicted)


@pytest.mark.parametrize("mode", ["causal", "bidirectional"])
def test_scene_cut_resets_to_the_new_prediction(mode: str) -> None:
    l1, ab1, _ = scene(8, seed=1)
    l2, ab2, _ = scene(8, seed=7)
    lightness = np.concatenate((l1, l2 * 0.6 + 5))  # another place, darker
    predicted = np.concatenate((flickery(ab1), -ab2))
    stage = TemporalStage(mode)
    out = run(stage, lightness, predicted)
    assert stage.cuts == 1
    assert np.array_equal(out[8], predicted[8])
    if mode == "bidirectional":  # nothing after the cut leaks back into the frame before it
        causal = run(TemporalStage("causal"), lightness, predicted)
        assert np.array_equal(out[7], causal[7])


@pytest.mark.parametrize("mode", ["causal", "bidirectional"])
def test_fast_object_leaves_no_ghost(mode: str) -> None:
    """A red box crossing green ground at 6 px/frame: the ground it leaves stays green.

    The box's texture spans the ground's lightness range, so only motion (the
    forward-backward test, patch correlation) tells the two apart.
    """
    lightness, true_ab, masks = scene(20, box_speed=6)
    out = run(TemporalStage(mode, strength=0.9), lightness, true_ab)
    kernel = np.ones((5, 5), np.uint8)
    near = np.stack([cv2.dilate(m.astype(np.uint8), kernel) for m in masks]).astype(bool)
    trail = masks[:-1] & ~near[1:]  # just uncovered ground, clear of the box's edge
    error = np.linalg.norm(out - true_ab, axis=1)[1:]
    assert trail.sum() > 100
    assert np.percentile(error[trail], 99) < 8  # ab units; red vs green is ~85 apart
    assert error[masks[1:]].mean() < 8  # and the box keeps its colour


@pytest.mark.parametrize("mode", ["causal", "bidirectional"])
def test_region_colour_holds_for_seconds(mode: str) -> None:
    """A panning lawn whose predicted hue cycles through five every four frames: after a
    warm-up the region memory holds one colour, where ten frames of memory let it wander."""
    lightness, true_ab, _ = scene(48, pan=2)
    predicted = wandering(true_ab)

    def spread(ab: np.ndarray) -> float:
        """The largest distance of the lawn's mean colour from its average, after frame 16."""
        colour = ab[16:, :, 20:-20, 20:-20].mean(axis=(2, 3))
        return float(np.linalg.norm(colour - colour.mean(axis=0), axis=1).max())

    held = spread(run(TemporalStage(mode), lightness, predicted))
    one_band = spread(run(TemporalStage(mode, region_strength=0.0), lightness, predicted))
    assert held < 0.5 * one_band
    assert held < 0.2 * spread(predicted)


def test_region_memory_averages_the_first_frames_evenly() -> None:
    """On a still, trusted scene the region colour is the plain mean of the predictions so
    far, not an average dominated by the first frame (what a fixed keep-share of 0.985
    would give: a 90 % share for frame 0 after seven frames)."""
    lightness, true_ab, _ = scene(8, pan=0)
    predicted = wandering(true_ab, hold=1)
    out = run(TemporalStage("causal"), lightness, predicted)
    centre = out[:, :, 30:-30, 40:-40].mean(axis=(2, 3))
    running_mean = np.cumsum(predicted[:, :, 0, 0], axis=0) / np.arange(1, 9)[:, None]
    assert np.abs(centre - running_mean).max() < 3  # ab units; the hues lie ~50 apart


@pytest.mark.parametrize("mode", ["causal", "bidirectional"])
def test_revealed_ground_keeps_its_own_colour_under_flicker(mode: str) -> None:
    """The region memory moves corrections, not colours: ground uncovered by a fast box
    keeps its own (flickering) colour, is not pulled to the box's red, and ends no farther
    from the truth than with the one-band filter."""
    lightness, true_ab, masks = scene(20, box_speed=6)
    predicted = flickery(true_ab, seed=3)
    kernel = np.ones((5, 5), np.uint8)
    near = np.stack([cv2.dilate(m.astype(np.uint8), kernel) for m in masks]).astype(bool)
    trail = masks[:-1] & ~near[1:]
    out = run(TemporalStage(mode), lightness, predicted)
    one_band = run(TemporalStage(mode, region_strength=0.0), lightness, predicted)
    red = np.array(RED, np.float32)[:, None]

    def to_red(ab: np.ndarray) -> float:
        return float(np.linalg.norm(ab[1:].transpose(1, 0, 2, 3)[:, trail] - red, axis=0).mean())

    def error(ab: np.ndarray) -> float:
        return float(np.linalg.norm(ab - true_ab, axis=1)[1:][trail].mean())

    assert to_red(out) > 0.9 * to_red(predicted)
    assert error(out) <= error(one_band) + 1


def test_bidirectional_keeps_order_and_bounded_buffer() -> None:
    lightness, true_ab, _ = scene(15)
    stage = TemporalStage("bidirectional", window=4)
    seen = []
    for i in range(15):
        out = stage.push(i, lightness[i], true_ab[i])
        assert len(out) == (0 if i < 4 else 1)
        seen += [k for k, _ in out]
    rest = stage.flush()
    assert len(rest) == 4
    assert seen + [k for k, _ in rest] == list(range(15))
    assert stage.flush() == []


def test_mean_trust_says_how_much_of_the_picture_the_flow_follows() -> None:
    followed = TemporalStage("causal")
    lightness, true_ab, _ = scene(6)
    run(followed, lightness, true_ab)
    unrelated = TemporalStage("causal", cut_trust=0.0, cut_histogram=1.0)
    noise = np.stack([texture(seed, H, W, 30, 70) for seed in range(6)])
    run(unrelated, noise, true_ab)
    assert TemporalStage("causal").mean_trust == 0.0  # nothing followed yet
    assert followed.mean_trust > 0.6
    assert unrelated.mean_trust < 0.2


def test_new_geometry_and_reset_start_afresh() -> None:
    stage = TemporalStage("causal")
    lightness, true_ab, _ = scene(3)
    run(stage, lightness, true_ab)
    small_L = np.ascontiguousarray(lightness[0, :64, :96])
    small_ab = np.ascontiguousarray(-true_ab[0, :, :64, :96])
    assert np.array_equal(stage.push("a", small_L, small_ab)[0][1], small_ab)
    stage.reset()
    assert np.array_equal(stage.push("b", small_L, -small_ab)[0][1], -small_ab)


def test_bidirectional_geometry_change_flushes_the_old_stream() -> None:
    lightness, true_ab, _ = scene(5)
    stage = TemporalStage("bidirectional", window=3)
    keys = [k for i in range(5) for k, _ in stage.push(i, lightness[i], true_ab[i])]
    small_L = np.ascontiguousarray(lightness[0, :64, :96])
    keys += [k for k, _ in stage.push("new", small_L, np.zeros((2, 64, 96), np.float32))]
    keys += [k for k, _ in stage.flush()]
    assert keys == [0, 1, 2, 3, 4, "new"]


def test_rejects_bad_settings() -> None:
    with pytest.raises(ValueError):
        TemporalStage("sideways")
    with pytest.raises(ValueError):
        TemporalStage("causal", strength=1.5)
    with pytest.raises(ValueError):
        TemporalStage("causal", region_strength=1.0)
    with pytest.raises(ValueError):
        TemporalStage("causal").push(0, np.zeros((4, 4), np.float32), np.zeros((2, 4, 5)))


def test_patch_correlation_stays_a_correlation() -> None:
    """Flat patches have no correlation (float rounding there once gave 3.9 and a motion
    trust of 1e10); texture correlates with itself and anti-correlates with its negative."""
    from vidcolor.temporal.flow import MotionEstimator, patch_correlation

    rng = np.random.default_rng(0)
    flat = np.full((32, 32), 240, np.float32)
    dither = (240 - rng.integers(0, 3, (32, 32))).astype(np.float32)
    zncc = patch_correlation(flat, dither)
    assert zncc.dtype == np.float32 and np.all(zncc == 0)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (32, 32)).astype(np.float32), (0, 0), 1)
    assert patch_correlation(texture, texture)[4:-4, 4:-4].min() > 0.999
    assert patch_correlation(texture, 255 - texture)[4:-4, 4:-4].max() < -0.999
    mixed = patch_correlation(texture, dither)
    assert mixed.min() >= -1 and mixed.max() <= 1
    motion = MotionEstimator(flow_tolerance=4.0)
    src, dst = flat.astype(np.uint8), dither.astype(np.uint8)
    link = motion.link(src, dst, *motion.flows(src, dst), (64, 64))
    assert link.trust.min() >= 0 and link.trust.max() <= 1
