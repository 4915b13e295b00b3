"""Uploads become 8-bit RGB by documented rules; bad files get clear errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.services.datasets.image_normalization import normalize_image
from app.services.errors import Invalid, TooLarge
from tests.support.images import png_bytes, random_photo

LIMIT = 10_000_000


def test_rgb_png_is_kept_pixel_exact():
    pixels = random_photo(40, 50)
    out = normalize_image("a.png", png_bytes(pixels), LIMIT)
    assert np.array_equal(out.pixels, pixels)
    assert out.original_format == "PNG"


def test_alpha_is_composited_on_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 0  # fully transparent -> white
    rgba[0, 0, 3] = 255  # opaque red-ish pixel stays
    out = normalize_image("a.png", png_bytes(rgba, "RGBA"), LIMIT)
    assert out.pixels[1, 1].tolist() == [255, 255, 255]
    assert out.pixels[0, 0].tolist() == [200, 0, 0]
    assert "alpha" in out.conversion


def test_grayscale_is_repeated_to_three_channels():
    grey = np.arange(16, dtype=np.uint8).reshape(4, 4) * 10
    out = normalize_image("g.png", png_bytes(grey, "L"), LIMIT)
    assert out.pixels.shape == (4, 4, 3)
    assert np.array_equal(out.pixels[..., 1], grey)


def test_16_bit_grayscale_is_scaled_by_257():
    grey16 = np.array([[0, 257, 65535, 1000]], dtype=np.uint16)
    buffer = io.BytesIO()
    Image.fromarray(grey16).save(buffer, format="PNG")
    out = normalize_image("g16.png", buffer.getvalue(), LIMIT)
    assert out.pixels[0, :, 0].tolist() == [0, 1, 255, round(1000 / 257)]


def test_cmyk_jpeg_is_converted_to_rgb():
    buffer = io.BytesIO()
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(buffer, format="JPEG", quality=95)
    out = normalize_image("c.jpg", buffer.getvalue(), LIMIT)
    r, g, b = out.pixels[4, 4].tolist()
    assert r > 200 and g < 60 and b < 60
    assert "CMYK" in out.conversion


def test_empty_file_is_rejected():
    with pytest.raises(Invalid, match="empty"):
        normalize_image("e.png", b"", LIMIT)


def test_non_image_is_rejected():
    with pytest.raises(Invalid, match="not an image"):
        normalize_image("notes.txt", b"hello, world", LIMIT)


def test_truncated_png_is_rejected():
    data = png_bytes(random_photo(64, 64))
    with pytest.raises(Invalid, match="truncated or corrupt"):
        normalize_image("t.png", data[: len(data) // 2], LIMIT)


def test_pixel_limit_is_checked_before_decoding():
    huge = png_bytes(np.zeros((200, 300, 3), np.uint8))
    with pytest.raises(TooLarge, match="decompression-bomb"):
        normalize_image("bomb.png", huge, max_pixels=200 * 300 - 1)


def test_a_format_outside_the_accepted_list_is_rejected():
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, format="ICO")  # Pillow reads it, licbench does not accept it
    with pytest.raises(Invalid, match="accepted"):
        normalize_image("a.ico", buffer.getvalue(), LIMIT)


def test_a_still_gif_is_accepted_as_rgb():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buffer, format="GIF")
    image = normalize_image("a.gif", buffer.getvalue(), LIMIT)
    assert image.pixels.shape == (4, 4, 3) and image.original_format == "GIF"
    assert tuple(image.pixels[0, 0]) == (200, 10, 10)
