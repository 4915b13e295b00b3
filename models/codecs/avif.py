"""AVIF (AV1 intra through Pillow's libavif support, Pillow >= 11.2); rate point = quality 0-100."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import features

from models.base import CodecKind, RateSpec
from models.codecs.pillow_image import PillowCodec, quality_rate


@dataclass
class AvifCodec(PillowCodec):
    """AVIF at Pillow quality 0-100, 4:4:4 chroma, encoder speed 6, one encoder thread.

    4:4:4 because the benchmark's metrics are computed on RGB; one thread because parallelism comes
    from running many tasks at once.
    """

    pillow_format = "AVIF"

    name: str = "avif"
    kind: CodecKind = CodecKind.CLASSICAL
    rate: RateSpec = quality_rate(0, 100)
    description: str = "AVIF (Pillow/libavif), 4:4:4, speed 6; rate point = quality"

    def save_options(self, quality: int) -> dict[str, Any]:
        return {"quality": quality, "subsampling": "4:4:4", "speed": 6, "max_threads": 1}

    def missing_support(self) -> str | None:
        if features.check("avif"):
            return None
        return "this Pillow was built without AVIF support (needs Pillow >= 11.2 with libavif)"
