"""Encode to bytes, decode from those bytes only, and time both sides."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from models.base import Codec, CodecError


@dataclass(frozen=True)
class Measurement:
    bitstream: bytes
    bpp: float  # 8 * len(bitstream) / (original width * height)
    encode_seconds: float
    decode_seconds: float
    reconstruction: np.ndarray  # decoded from ``bitstream`` alone


def measure(codec: Codec, image: np.ndarray, rate_point: float) -> Measurement:
    """Run one real round trip of ``codec`` on ``image`` at ``rate_point``."""
    start = time.perf_counter()
    data = codec.encode(image, rate_point)
    encoded = time.perf_counter()
    reconstruction = codec.decode(bytes(data))
    decoded = time.perf_counter()
    if reconstruction.shape != image.shape or reconstruction.dtype != np.uint8:
        raise CodecError(
            f"{codec.name} decoded {reconstruction.shape} {reconstruction.dtype}, expected {image.shape} uint8"
        )
    height, width = image.shape[:2]
    return Measurement(
        bitstream=bytes(data),
        bpp=8.0 * len(data) / (width * height),
        encode_seconds=encoded - start,
        decode_seconds=decoded - encoded,
        reconstruction=reconstruction,
    )
