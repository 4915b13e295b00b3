"""HEIC: HEVC intra coding in a HEIF container, through pillow-heif (its wheel ships libheif with
the x265 encoder and the libde265 decoder); rate point = libheif quality 0-100.

``heic`` is 4:2:0, as HEIC files are written by cameras and phones; ``heic-444`` keeps full chroma
resolution and is the open stand-in for BPG (HEVC intra 4:4:4 in its own container), the anchor
learned-compression papers compare against. Both: 8 bits, BT.601 full-range YCbCr (libheif's sRGB
defaults, written as an NCLX box), one coded image (no grid tiles), libheif's x265 defaults
otherwise. Decoding reads only the bytes, through libde265.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from models.base import Availability, Codec, CodecError, CodecKind, CorruptStreamError, RateSpec, check_image
from models.codecs.pillow_image import quality_rate


def _missing_heif() -> str | None:
    try:
        import pillow_heif
    except ImportError:
        return "the pillow-heif package is not installed"
    info = pillow_heif.libheif_info()
    if "x265" not in info.get("encoders", {}):
        return "this pillow-heif has no x265 HEVC encoder"
    if "libde265" not in info.get("decoders", {}):
        return "this pillow-heif has no libde265 HEVC decoder"
    return None


@dataclass
class HeicCodec(Codec):
    """HEVC intra (x265) in HEIF at libheif quality 0-100, 4:2:0."""

    chroma: ClassVar[str] = "420"

    name: str = "heic"
    kind: CodecKind = CodecKind.CLASSICAL
    rate: RateSpec = quality_rate(0, 100)
    description: str = "HEIC: HEVC intra (x265 via pillow-heif/libheif), 4:2:0; rate point = quality"

    def availability(self) -> Availability:
        reason = _missing_heif()
        return Availability(reason is None, reason)

    def encode(self, image: np.ndarray, rate_point: float) -> bytes:
        check_image(image)
        quality = int(self.rate.validate(rate_point))
        reason = _missing_heif()
        if reason:
            raise CodecError(f"{self.name}: {reason}")
        import pillow_heif

        height, width = image.shape[:2]
        buffer = io.BytesIO()
        try:
            pillow_heif.encode(
                "RGB",
                (width, height),
                np.ascontiguousarray(image).tobytes(),
                buffer,
                quality=quality,
                chroma=self.chroma,
                tile_size=0,
            )
        except (RuntimeError, ValueError) as exc:
            raise CodecError(f"{self.name}: x265 could not encode a {width}x{height} image: {exc}") from exc
        return buffer.getvalue()

    def decode(self, data: bytes) -> np.ndarray:
        import pillow_heif

        try:
            if not pillow_heif.is_supported(data):
                raise CorruptStreamError("not a HEIF stream")
            heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
            if heif.mode != "RGB":
                raise CorruptStreamError(f"HEIF stream holds a {heif.mode} image, not RGB")
            pixels = np.asarray(heif)
        except CodecError:
            raise
        except Exception as exc:  # libheif raises several types for truncated/corrupt data
            raise CorruptStreamError(
                f"corrupt HEIF stream: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
            ) from exc
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
            raise CorruptStreamError(f"HEIF stream decoded to {pixels.dtype} {pixels.shape}, not 8-bit RGB")
        return np.ascontiguousarray(pixels)


@dataclass
class Heic444Codec(HeicCodec):
    """HEVC intra 4:4:4 in HEIF: the open stand-in for BPG."""

    chroma: ClassVar[str] = "444"

    name: str = "heic-444"
    description: str = (
        "HEIC 4:4:4: HEVC intra (x265 via pillow-heif/libheif), full chroma, the open stand-in "
        "for BPG; rate point = quality"
    )
