"""JPEG through Pillow (libjpeg-turbo): the classical anchor every RD plot needs.

``jpeg`` is 4:2:0 (what most JPEG files are); ``jpeg-444`` keeps full-resolution chroma, the fairer
anchor for RGB metrics. Both use optimised Huffman tables; rate point = Pillow quality 1-95.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from models.base import CodecKind, RateSpec
from models.codecs.pillow_image import PillowCodec

JPEG_RATE = RateSpec(points=(10.0, 20.0, 30.0, 50.0, 70.0, 85.0, 95.0), minimum=1, maximum=95, integer=True)


@dataclass
class JpegCodec(PillowCodec):
    """Baseline JPEG at Pillow quality 1-95, chroma subsampling 4:2:0 (``"4:2:0"``) or 4:4:4."""

    pillow_format = "JPEG"

    name: str = "jpeg"
    kind: CodecKind = CodecKind.CLASSICAL
    rate: RateSpec = JPEG_RATE
    description: str = "JPEG (Pillow/libjpeg-turbo), 4:2:0, optimised Huffman tables; rate point = quality"
    subsampling: str = field(default="4:2:0")

    def save_options(self, quality: int) -> dict[str, Any]:
        return {"quality": quality, "subsampling": self.subsampling, "optimize": True}


@dataclass
class Jpeg444Codec(JpegCodec):
    """JPEG without chroma subsampling."""

    name: str = "jpeg-444"
    description: str = "JPEG (Pillow/libjpeg-turbo), 4:4:4, optimised Huffman tables; rate point = quality"
    subsampling: str = field(default="4:4:4")
