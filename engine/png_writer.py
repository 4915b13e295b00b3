"""Fast lossless PNG for reconstructions: the Sub filter in numpy and libdeflate (through imagecodecs).

A worker writes one reconstruction PNG per rate point; with Pillow that was ~4% of a job's worker time
(35 ms for 768x512 at zlib level 1). The PNG format (ISO/IEC 15948, W3C PNG 2nd ed.) is three chunks
here: IHDR (8-bit RGB, no interlace), one IDAT holding the zlib stream of the filtered rows, IEND.
Every row uses filter type 1 (Sub: each byte minus the byte three to its left, modulo 256), which is
what makes photos compress; libdeflate at level 1 then writes a smaller file than Pillow's level 1
about 3x faster. Lossless by construction: any PNG decoder returns exactly ``pixels`` (tested).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FILTER_SUB = 1
DEFLATE_LEVEL = 1  # libdeflate's fastest; level 6 is ~2x slower for ~2% smaller files


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _deflate(data: bytes) -> bytes:
    """A zlib stream (RFC 1950) of ``data``: libdeflate when imagecodecs has it, else the zlib module."""
    try:
        import imagecodecs

        return bytes(imagecodecs.deflate_encode(data, level=DEFLATE_LEVEL))  # bytes stays itself; no copy
    except (ImportError, AttributeError):  # an imagecodecs build without libdeflate
        return zlib.compress(data, DEFLATE_LEVEL)


def rgb_png(pixels: np.ndarray) -> bytes:
    """``pixels`` (uint8, H x W x 3) as a lossless 8-bit RGB PNG."""
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3 or 0 in pixels.shape:
        raise ValueError(f"expected a non-empty uint8 HxWx3 array, got {pixels.dtype} {pixels.shape}")
    height, width, _ = pixels.shape
    rows = pixels.reshape(height, width * 3)
    filtered = np.empty((height, width * 3 + 1), dtype=np.uint8)
    filtered[:, 0] = FILTER_SUB
    filtered[:, 1:4] = rows[:, :3]
    np.subtract(rows[:, 3:], rows[:, :-3], out=filtered[:, 4:])  # uint8 arithmetic wraps modulo 256
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, colour type 2 (RGB)
    return (
        PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", _deflate(filtered.tobytes())) + _chunk(b"IEND", b"")
    )
