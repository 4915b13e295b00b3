"""Study crops: the most detailed square of the original, the same box cut from every condition."""

from __future__ import annotations

import numpy as np
import pytest

from app.services.studies.crops import cut, decode_png, detailed_region, encode_png


def _flat_with_texture(height: int, width: int, top: int, left: int, side: int) -> np.ndarray:
    image = np.full((height, width, 3), 128, dtype=np.uint8)
    rng = np.random.default_rng(0)
    image[top : top + side, left : left + side] = rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8)
    return image


def test_the_crop_lands_on_the_detailed_region():
    image = _flat_with_texture(200, 300, top=120, left=40, side=64)
    left, top, width, height = detailed_region(image, 64)
    assert (width, height) == (64, 64)
    assert abs(left - 40) <= 8 and abs(top - 120) <= 8  # candidate windows step by side / 8


def test_a_flat_image_is_cropped_at_the_centre():
    assert detailed_region(np.zeros((100, 140, 3), np.uint8), 40) == (50, 30, 40, 40)


@pytest.mark.parametrize("side, expected", [(None, (0, 0, 90, 60)), (128, (0, 0, 90, 60))])
def test_no_crop_or_an_image_that_fits_shows_the_whole_image(side, expected):
    assert detailed_region(np.zeros((60, 90, 3), np.uint8), side) == expected


def test_a_side_above_the_short_edge_is_reduced_to_it():
    assert detailed_region(np.zeros((60, 300, 3), np.uint8), 100)[2:] == (60, 60)


def test_cut_and_png_round_trip_keep_the_pixels():
    image = _flat_with_texture(50, 70, top=10, left=20, side=16)
    box = (20, 10, 16, 16)
    assert np.array_equal(decode_png(encode_png(cut(image, box))), image[10:26, 20:36])
    with pytest.raises(ValueError):
        cut(image, (60, 0, 16, 16))
