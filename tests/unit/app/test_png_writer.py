"""The reconstruction PNG writer: any decoder returns exactly the pixels written."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from engine.png_writer import rgb_png
from tests.support.images import random_photo


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 1), (33, 47), (96, 128)])
def test_pixels_come_back_exactly(shape):
    rng = np.random.default_rng(sum(shape))
    pixels = rng.integers(0, 256, size=(*shape, 3), dtype=np.uint8)  # noise: every Sub difference wraps somewhere
    for image in (pixels, random_photo(*shape, seed=3)):
        data = rgb_png(np.ascontiguousarray(image))
        with Image.open(io.BytesIO(data)) as img:
            img.verify()  # chunk CRCs and structure
        with Image.open(io.BytesIO(data)) as img:
            assert img.mode == "RGB" and img.size == (shape[1], shape[0])
            assert np.array_equal(np.asarray(img), image)


def test_photos_compress_and_non_contiguous_views_are_written():
    photo = random_photo(128, 192, seed=1)
    assert len(rgb_png(photo)) < photo.nbytes
    view = photo[::2, ::-1]  # a strided view: written as the array it shows
    with Image.open(io.BytesIO(rgb_png(view))) as img:
        assert np.array_equal(np.asarray(img), view)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4), np.uint8),
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((4, 4, 3), np.float32),
        np.zeros((0, 4, 3), np.uint8),
    ],
)
def test_other_arrays_are_refused(bad):
    with pytest.raises(ValueError, match="uint8 HxWx3"):
        rgb_png(bad)
