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


def gradient_photo(h: int = 48, w: int = 80) -> np.ndarray:
    """A small deterministic colour image: gradients, a sine pattern and mild noise (codec round trips)."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / w, yy * 255 / h, 128 + 100 * np.sin(xx / 5.0)], axis=-1)
    return np.clip(base + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two 8-bit arrays (a test oracle independent of metrics/)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def photo_uploads(sizes) -> list[tuple]:
    """The ``files`` of an image-set upload: one random photo PNG per (height, width) in ``sizes``."""
    return [
        ("files", (f"photo{i}.png", png_bytes(random_photo(h, w, seed=70 + i)), "image/png"))
        for i, (h, w) in enumerate(sizes)
    ]
