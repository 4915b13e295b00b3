"""Turn any accepted upload into 8-bit RGB, with documented, deterministic rules.

Rules (also shown at /docs):
- Accepted formats: PNG, JPEG, WebP, BMP, TIFF, GIF. Anything else is rejected.
- Animated or multi-page files (GIF, APNG, animated WebP, multi-page TIFF) keep their FIRST frame; the
  conversion note says so ("first frame of N").
- EXIF orientation is applied, so pixels are what a viewer shows.
- Alpha (RGBA, LA, PA, palette with transparency) is composited onto a white background.
- Grayscale (L, 1, I;16, I, F) becomes RGB by repeating the grey channel.
- 16-bit samples are scaled to 8 bits by ``round(v / 257)`` (65535 -> 255); 32-bit integer and float
  greyscale are clipped to [0, 255] first (Pillow's convention for mode I/F).
- CMYK and YCbCr/LAB are converted to RGB with Pillow's colour conversion (no ICC colour management).
- The pixel count is checked from the header BEFORE decoding (decompression-bomb guard).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app.services.errors import Invalid, TooLarge
from models.image_errors import PIL_DECODE_ERRORS

ACCEPTED_FORMATS = {"PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF"}
ACCEPTED_NAMES = "PNG, JPEG, WebP, BMP, TIFF, GIF"

# We enforce our own limit before decoding; Pillow's global guard would raise a less helpful error.
Image.MAX_IMAGE_PIXELS = None


@dataclass(frozen=True)
class NormalizedImage:
    pixels: np.ndarray  # uint8 HxWx3
    png: bytes  # the stored form
    content_hash: str  # sha256 of ``png``
    original_format: str
    original_mode: str
    conversion: str


def _to_rgb(img: Image.Image) -> tuple[Image.Image, list[str]]:
    notes: list[str] = []
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        notes.append("palette expanded")
        mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        arr = np.asarray(img, dtype=np.uint16).astype(np.float64)
        img = Image.fromarray(np.round(arr / 257.0).astype(np.uint8), "L")
        notes.append("16-bit scaled to 8-bit (v/257)")
        mode = "L"
    elif mode in ("I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        if arr.max(initial=0) > 255:
            arr = arr / 257.0
            notes.append("16-bit scaled to 8-bit (v/257)")
        img = Image.fromarray(np.clip(np.round(arr), 0, 255).astype(np.uint8), "L")
        mode = "L"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba).convert("RGB")
        notes.append("alpha composited on white")
    elif mode in ("L", "1"):
        img = img.convert("RGB")
        notes.append("grayscale replicated to RGB")
    elif mode == "CMYK":
        img = img.convert("RGB")
        notes.append("CMYK converted to RGB (no ICC)")
    elif mode in ("RGB",):
        pass
    elif mode == "RGB;16" or mode.startswith("RGB") and mode != "RGB":
        img = img.convert("RGB")
        notes.append(f"{mode} converted to RGB")
    else:
        img = img.convert("RGB")
        notes.append(f"{mode} converted to RGB")
    return img, notes


def normalize_image(filename: str, data: bytes, max_pixels: int) -> NormalizedImage:
    """Validate and convert one upload; raises ``Invalid``/``TooLarge`` naming ``filename`` and the problem."""
    if not data:
        raise Invalid(f"file {filename!r} is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise Invalid(f"file {filename!r} is not an image (accepted: {ACCEPTED_NAMES})") from None
    except Exception as exc:
        raise Invalid(f"file {filename!r} cannot be read as an image: {exc}") from None
    fmt = (img.format or "").upper()
    if fmt not in ACCEPTED_FORMATS:
        raise Invalid(f"file {filename!r} is {fmt or 'an unknown format'}; accepted: {ACCEPTED_NAMES}")
    width, height = img.size
    if width < 1 or height < 1:
        raise Invalid(f"file {filename!r} has no pixels")
    if width * height > max_pixels:
        raise TooLarge(
            f"file {filename!r} has {width}x{height} = {width * height} pixels, over the limit of "
            f"{max_pixels} (decompression-bomb guard)"
        )
    original_mode = img.mode
    try:
        frames = int(getattr(img, "n_frames", 1) or 1)
        img.seek(0)
        img.load()
        rgb, notes = _to_rgb(ImageOps.exif_transpose(img))
        if frames > 1:
            notes.insert(0, f"first frame of {frames} (animated or multi-page)")
        pixels = np.asarray(rgb, dtype=np.uint8).copy()
    except PIL_DECODE_ERRORS as exc:
        raise Invalid(f"file {filename!r} is truncated or corrupt: {exc}") from None
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="PNG", compress_level=6)
    png = buffer.getvalue()
    return NormalizedImage(
        pixels=pixels,
        png=png,
        content_hash=hashlib.sha256(png).hexdigest(),
        original_format=fmt,
        original_mode=original_mode,
        conversion="; ".join(notes) or "none (already 8-bit RGB)",
    )
