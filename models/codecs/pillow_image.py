"""What every classical codec run through Pillow shares: save to bytes, decode from bytes, map errors.

A subclass names the Pillow format, its save options for a quality, and how to tell whether the
format's encoder is present here; ``encode``/``decode`` follow the one codec contract.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from models.base import Availability, Codec, CodecError, CorruptStreamError, RateSpec, check_image

# The default quality sweep of the classical anchors (Pillow's 0/1-100 quality scales).
QUALITY_SWEEP = (10.0, 20.0, 30.0, 50.0, 70.0, 85.0, 95.0)


def quality_rate(minimum: int, maximum: int) -> RateSpec:
    return RateSpec(points=QUALITY_SWEEP, minimum=minimum, maximum=maximum, integer=True)


@dataclass
class PillowCodec(Codec):
    """A classical codec whose encoder and decoder are Pillow's (``pillow_format``: ``"WEBP"``, ...)."""

    pillow_format: ClassVar[str] = ""

    def save_options(self, quality: int) -> dict[str, Any]:
        """Keyword arguments for ``Image.save`` at ``quality``."""
        return {"quality": quality}

    def missing_support(self) -> str | None:
        """Why this format cannot be encoded here (None when it can)."""
        return None

    def availability(self) -> Availability:
        reason = self.missing_support()
        return Availability(reason is None, reason)

    def encode(self, image: np.ndarray, rate_point: float) -> bytes:
        check_image(image)
        quality = int(self.rate.validate(rate_point))
        reason = self.missing_support()
        if reason:
            raise CodecError(f"{self.name}: {reason}")
        buffer = io.BytesIO()
        Image.fromarray(image, "RGB").save(buffer, format=self.pillow_format, **self.save_options(quality))
        return buffer.getvalue()

    def decode(self, data: bytes) -> np.ndarray:
        try:
            with Image.open(io.BytesIO(data)) as img:
                if img.format != self.pillow_format:
                    raise CorruptStreamError(f"not a {self.pillow_format} stream ({img.format})")
                img.load()
                return np.asarray(img.convert("RGB"))
        except CodecError:
            raise
        except Exception as exc:  # Pillow and its plugins raise several types for truncated/corrupt data
            raise CorruptStreamError(f"corrupt {self.pillow_format} stream: {_first_line(exc)}") from exc


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
