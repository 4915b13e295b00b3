"""JPEG 2000 (ISO/IEC 15444-1) through imagecodecs' OpenJPEG binding, JP2 file format.

Rate point = the target PSNR in dB of the single quality layer (OpenJPEG's fixed-quality mode,
``opj_compress -q``: the encoder truncates the code-blocks' passes where the layer reaches that
distortion; imagecodecs exposes this as ``jpeg2k_encode(level=...)``, not the compression-ratio
mode). Irreversible 9/7 wavelet with the colour transform (ICT), one tile, up to six resolution
levels (fewer for small images), one thread. Decoding reads only the bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.base import Availability, Codec, CodecError, CodecKind, CorruptStreamError, RateSpec, check_image

# Target PSNR of the quality layer, dB: OpenJPEG's fixed-quality sweep from very low to near-transparent.
TARGET_PSNR_SWEEP = (26.0, 29.0, 32.0, 35.0, 38.0, 41.0, 44.0)
MAX_RESOLUTIONS = 6  # OpenJPEG's default number of resolution levels


def _missing_openjpeg() -> str | None:
    try:
        import imagecodecs
    except ImportError:
        return "the imagecodecs package is not installed"
    return None if imagecodecs.JPEG2K.available else "this imagecodecs was built without OpenJPEG (JPEG2K)"


def resolution_levels(height: int, width: int) -> int:
    """Resolution levels OpenJPEG accepts for an image: the smallest side must span 2^(levels-1)."""
    return max(1, min(MAX_RESOLUTIONS, int(np.floor(np.log2(min(height, width)))) + 1))


@dataclass
class Jpeg2000Codec(Codec):
    """JPEG 2000 (OpenJPEG via imagecodecs), one quality layer at a target PSNR."""

    name: str = "jpeg2000"
    kind: CodecKind = CodecKind.CLASSICAL
    rate: RateSpec = RateSpec(
        points=TARGET_PSNR_SWEEP,
        minimum=15.0,
        maximum=70.0,
        integer=False,
        label="target PSNR (dB) of the quality layer",
    )
    description: str = (
        "JPEG 2000 (OpenJPEG via imagecodecs), JP2, 9/7 wavelet + ICT, one quality layer; "
        "rate point = the layer's target PSNR in dB"
    )

    def availability(self) -> Availability:
        reason = _missing_openjpeg()
        return Availability(reason is None, reason)

    def encode(self, image: np.ndarray, rate_point: float) -> bytes:
        check_image(image)
        target = self.rate.validate(rate_point)
        reason = _missing_openjpeg()
        if reason:
            raise CodecError(f"{self.name}: {reason}")
        import imagecodecs

        height, width = image.shape[:2]
        try:
            # level is the fixed-quality PSNR in dB, a float at run time (30.0, 30.7 and 31 dB give three sizes);
            # imagecodecs' stub says int.
            data = imagecodecs.jpeg2k_encode(
                np.ascontiguousarray(image),
                level=target,  # type: ignore[arg-type]
                codecformat="jp2",
                reversible=False,
                resolutions=resolution_levels(height, width),
                numthreads=1,
            )
        except imagecodecs.Jpeg2kError as exc:
            raise CodecError(f"{self.name}: OpenJPEG could not encode a {width}x{height} image: {exc}") from exc
        return bytes(data)

    def decode(self, data: bytes) -> np.ndarray:
        import imagecodecs

        if not imagecodecs.jpeg2k_check(data):
            raise CorruptStreamError("not a JPEG 2000 stream")
        try:
            pixels = imagecodecs.jpeg2k_decode(data, numthreads=1)
        except imagecodecs.Jpeg2kError as exc:
            raise CorruptStreamError(f"corrupt JPEG 2000 stream: {exc}") from exc
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
            raise CorruptStreamError(f"JPEG 2000 stream decoded to {pixels.dtype} {pixels.shape}, not 8-bit RGB")
        return np.ascontiguousarray(pixels)
