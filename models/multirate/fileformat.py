"""The ``.lic`` file: a small header, the coded streams, a checksum.

Layout (big-endian)::

    magic  b"LICM"                     4 bytes
    version                            u8
    model id                           8 bytes (fingerprint of the weights that wrote the file)
    height, width                      u32, u32 (the image, before padding)
    rate parameter R in [0, 1]         f64
    stream count                       u8
    per stream: length u32, bytes      (anchors, non-anchors, hyper-latent z)
    CRC-32 of everything above         u32

Latent shapes follow from the image size (padding to a multiple of 64), so they are not stored.
bpp is ``8 * len(file) / (height * width)``: the header and checksum are paid for.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from models.base import CorruptStreamError

MAGIC = b"LICM"
VERSION = 1
_HEADER = struct.Struct(">4sB8sIIdB")
_LENGTH = struct.Struct(">I")
_CRC = struct.Struct(">I")


@dataclass(frozen=True)
class LicFile:
    """A parsed file."""

    model_id: bytes
    height: int
    width: int
    rate: float
    streams: tuple[bytes, ...]
    version: int = VERSION


def pack(f: LicFile) -> bytes:
    """Serialise ``f`` (header, length-prefixed streams, CRC-32)."""
    if len(f.model_id) != 8:
        raise ValueError("model id must be 8 bytes")
    parts = [_HEADER.pack(MAGIC, f.version, f.model_id, f.height, f.width, f.rate, len(f.streams))]
    for s in f.streams:
        parts.append(_LENGTH.pack(len(s)) + s)
    body = b"".join(parts)
    return body + _CRC.pack(zlib.crc32(body))


def unpack(data: bytes) -> LicFile:
    """Parse bytes written by :func:`pack`; ``CorruptStreamError`` says what is wrong otherwise."""
    data = bytes(data)
    if len(data) < len(MAGIC) and MAGIC.startswith(data):
        raise CorruptStreamError(f"file is truncated: {len(data)} bytes")
    if data[:4] != MAGIC:
        raise CorruptStreamError("not a licbench-multirate file (bad magic bytes)")
    if len(data) < _HEADER.size + _CRC.size:
        raise CorruptStreamError(f"file is truncated: {len(data)} bytes is shorter than the header")
    _, version, mid, height, width, rate, count = _HEADER.unpack_from(data, 0)
    if version != VERSION:
        raise CorruptStreamError(f"unsupported file version {version} (this decoder reads version {VERSION})")
    pos, streams = _HEADER.size, []
    for i in range(count):
        if pos + _LENGTH.size > len(data) - _CRC.size:
            raise CorruptStreamError(f"file is truncated: stream {i + 1} of {count} is missing")
        (length,) = _LENGTH.unpack_from(data, pos)
        pos += _LENGTH.size
        if pos + length > len(data) - _CRC.size:
            raise CorruptStreamError(
                f"file is truncated or corrupt: stream {i + 1} of {count} declares {length} bytes, "
                f"{max(0, len(data) - _CRC.size - pos)} remain"
            )
        streams.append(data[pos : pos + length])
        pos += length
    if pos + _CRC.size != len(data):
        raise CorruptStreamError(f"file has {len(data) - pos - _CRC.size} unexpected trailing bytes")
    (crc,) = _CRC.unpack_from(data, pos)
    if crc != zlib.crc32(data[:pos]):
        raise CorruptStreamError("checksum mismatch: the file is corrupt")
    if height == 0 or width == 0:
        raise CorruptStreamError("header declares an empty image")
    return LicFile(mid, height, width, rate, tuple(streams), version)
