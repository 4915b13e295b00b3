"""Lossy WebP (libwebp through Pillow): VP8 intra coding, 4:2:0; rate point = quality 0-100."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import features

from models.base import CodecKind, RateSpec
from models.codecs.pillow_image import PillowCodec, quality_rate


@dataclass
class WebpCodec(PillowCodec):
    """WebP lossy at Pillow quality 0-100 with libwebp's slowest, best method (6)."""

    pillow_format = "WEBP"

    name: str = "webp"
    kind: CodecKind = CodecKind.CLASSICAL
    rate: RateSpec = quality_rate(0, 100)
    description: str = "WebP lossy (Pillow/libwebp), 4:2:0, method 6; rate point = quality"

    def save_options(self, quality: int) -> dict[str, Any]:
        return {"quality": quality, "method": 6, "lossless": False}

    def missing_support(self) -> str | None:
        return None if features.check("webp") else "this Pillow was built without WebP support"
