"""JPEG XL (libjxl through the ``pillow-jxl-plugin`` package); rate point = quality 0-100.

The plugin registers the ``JXL`` format with Pillow on import; without it the codec reports itself
unavailable rather than failing at encode time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.base import CodecKind, RateSpec
from models.codecs.pillow_image import PillowCodec, quality_rate


def _plugin_missing() -> str | None:
    try:
        import pillow_jxl  # noqa: F401  (registers the JXL format with Pillow)
    except ImportError:
        return "JPEG XL needs the pillow-jxl-plugin package (pip install pillow-jxl-plugin)"
    return None


@dataclass
class JpegXlCodec(PillowCodec):
    """Lossy JPEG XL (VarDCT) at quality 0-100, encoder effort 7 (libjxl's default), one thread."""

    pillow_format = "JXL"

    name: str = "jpeg-xl"
    kind: CodecKind = CodecKind.CLASSICAL
    rate: RateSpec = quality_rate(0, 99)
    description: str = "JPEG XL (libjxl via pillow-jxl-plugin), lossy, effort 7; rate point = quality"

    def save_options(self, quality: int) -> dict[str, Any]:
        return {"quality": quality, "lossless": False, "effort": 7, "num_threads": 1}

    def missing_support(self) -> str | None:
        return _plugin_missing()

    def decode(self, data: bytes):  # type: ignore[override]
        _plugin_missing()  # make sure the format is registered before Pillow identifies the stream
        return super().decode(data)
