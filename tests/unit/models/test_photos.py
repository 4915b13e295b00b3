"""The offline photo sets: training, demo (test set) and tuning photos never overlap."""

from __future__ import annotations

from models.photos import DEMO_PHOTOS, TRAINING_PHOTOS, TUNING_PHOTOS, load_photo, tuning_crops


def test_photo_sets_are_disjoint():
    sets = [set(DEMO_PHOTOS), set(TRAINING_PHOTOS), set(TUNING_PHOTOS)]
    assert all(not (a & b) for i, a in enumerate(sets) for b in sets[i + 1 :])


def test_tuning_crops_are_four_distinct_colour_tiles_of_the_tuning_photo():
    crops = tuning_crops(96)
    assert len(crops) == 4 * len(TUNING_PHOTOS)
    photo = load_photo(TUNING_PHOTOS[0])
    assert photo.ndim == 3 and photo.shape[2] == 3 and photo.dtype.name == "uint8"
    tiles = list(crops.values())
    assert all(t.shape == (96, 96, 3) for t in tiles)
    assert len({t.tobytes() for t in tiles}) == 4
    assert tiles[0].std(axis=(0, 1)).min() > 1  # a real photo, not a flat tile
