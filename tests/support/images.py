"""Synthetic test images: encoded bytes and smooth photo-like arrays."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


def png_bytes(pixels: np.ndarray, mode: str | None = None, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode).save(buffer, format=format)
    return buffer.getvalue()


def random_photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random image (compressible like a photo, unlike white noise)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(max(2, height // 16), max(2, width // 16), 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.BICUBIC))
