"""JPEG through Pillow (libjpeg-turbo): the classical anchor every RD plot needs."""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from models.base import Codec, CodecError, CorruptStreamError, RateSpec, check_image

JPEG_RATE = RateSpec(points=(10.0, 20.0, 30.0, 50.0, 70.0, 85.0, 95.0), minimum=1, maximum=95, integer=True)


@dataclass
class JpegCodec(Codec):
    """Baseline JPEG at Pillow quality 1-95, chroma subsampling 4:2:0 (``"4:2:0"``) or 4:4:4."""

    name: str = "jpeg"
    kind: str = "classical"
    rate: RateSpec = JPEG_RATE
    description: str = "JPEG (Pillow/libjpeg-turbo), 4:2:0, optimised Huffman tables; rate point = quality"
    subsampling: str = field(default="4:2:0")

    def encode(self, image: np.ndarray, rate_point: float) -> bytes:
        check_image(image)
        quality = int(self.rate.validate(rate_point))
        buffer = io.BytesIO()
        Image.fromarray(image, "RGB").save(
            buffer, format="JPEG", quality=quality, subsampling=self.subsampling, optimize=True
        )
        return buffer.getvalue()

    def decode(self, data: bytes) -> np.ndarray:
        try:
            with Image.open(io.BytesIO(data)) as img:
                if img.format != "JPEG":
                    raise CorruptStreamError(f"not a JPEG stream ({img.format})")
                img.load()
                return np.asarray(img.convert("RGB"))
        except CodecError:
            raise
        except Exception as exc:  # Pillow raises several types for truncated/corrupt data
            raise CorruptStreamError(f"corrupt JPEG stream: {exc}") from exc
