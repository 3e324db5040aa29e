"""training.film: archive film renders of colour photos (the luma old stock would record)."""

import numpy as np
import pytest
from skimage import data

from training import data as tdata
from training import film
from vidcolor.color import rgb_to_lab


def eye_lightness(rgb):
    return rgb_to_lab(rgb.astype(np.float32) / 255, dim=-1)[..., 0]


def test_panchromatic_render_is_the_eyes_lightness():
    rgb = data.astronaut()[::4, ::4]
    np.testing.assert_allclose(film.render_lightness(rgb, film.PANCHROMATIC), eye_lightness(rgb),
                               atol=0.02)


@pytest.mark.parametrize(("rgb", "darker"), [((200, 30, 30), True), ((40, 60, 220), False)])
def test_orthochromatic_is_red_blind_and_blue_heavy(rgb, darker):
    patch = np.full((8, 8, 3), rgb, np.uint8)
    ortho = film.orthochromatic_lightness(patch).mean()
    eye = eye_lightness(patch).mean()
    assert (ortho < eye - 10) if darker else (ortho > eye + 10)


def test_film_lightness_is_seeded_in_range_and_keeps_structure():
    rgb = data.coffee()[::4, ::4]
    first = film.film_lightness(rgb, np.random.default_rng(5))
    again = film.film_lightness(rgb, np.random.default_rng(5))
    other = film.film_lightness(rgb, np.random.default_rng(6))
    assert first.shape == rgb.shape[:2] and first.dtype == np.float32
    assert first.min() >= 0 and first.max() <= 100
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).mean() > 1
    assert np.corrcoef(first.ravel(), eye_lightness(rgb).ravel())[0, 1] > 0.7


def test_archive_samples_change_l_but_not_the_target_ab():
    image = data.chelsea()[::4, ::4]
    film_set = tdata.CropDataset([image], crop=64, degrade_p=0, seed=1, archive_p=1.0)
    plain = tdata.CropDataset([image], crop=64, degrade_p=0, seed=1)
    (film_l, film_ab), (plain_l, plain_ab) = film_set[0], plain[0]
    assert film_l.shape == plain_l.shape == (1, 64, 64)
    assert np.abs((film_l - plain_l).numpy()).mean() > 0.5
    assert film_l.min() >= 0 and film_l.max() <= 100
    assert film_ab.shape == plain_ab.shape == (2, 64, 64)
