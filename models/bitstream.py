"""A small self-describing container for learned-codec bitstreams.

Layout (big-endian)::

    magic "LBC1" | codec name (u8 length + utf-8) | rate point (f64) | height, width (u32, u32)
    | latent shape (u8 ndim + u32 each) | groups (u8) | per group: strings (u16), each u32 length + bytes

Everything a decoder needs is inside, so bpp computed from ``len(bytes)`` is the honest rate.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from models.base import CorruptStreamError

MAGIC = b"LBC1"


@dataclass(frozen=True)
class Bitstream:
    """The parts of a coded image."""

    codec: str
    rate_point: float
    height: int
    width: int
    shape: tuple[int, ...]
    strings: list[list[bytes]]


def pack(stream: Bitstream) -> bytes:
    """Serialise ``stream`` to bytes."""
    name = stream.codec.encode()
    out = [MAGIC, struct.pack(">B", len(name)), name]
    out.append(struct.pack(">dII", stream.rate_point, stream.height, stream.width))
    out.append(struct.pack(">B", len(stream.shape)) + struct.pack(f">{len(stream.shape)}I", *stream.shape))
    out.append(struct.pack(">B", len(stream.strings)))
    for group in stream.strings:
        out.append(struct.pack(">H", len(group)))
        for s in group:
            out.append(struct.pack(">I", len(s)) + s)
    return b"".join(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise CorruptStreamError("bitstream is truncated")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))


def unpack(data: bytes, expected_codec: str | None = None) -> Bitstream:
    """Parse bytes written by :func:`pack`; raise ``CorruptStreamError`` on anything malformed."""
    r = _Reader(bytes(data))
    if r.take(4) != MAGIC:
        raise CorruptStreamError("not a licbench learned-codec bitstream (bad magic)")
    (name_len,) = r.unpack(">B")
    try:
        codec = r.take(name_len).decode()
    except UnicodeDecodeError as exc:
        raise CorruptStreamError("corrupt codec name in header") from exc
    if expected_codec is not None and codec != expected_codec:
        raise CorruptStreamError(f"bitstream was written by codec {codec!r}, not {expected_codec!r}")
    rate_point, height, width = r.unpack(">dII")
    (ndim,) = r.unpack(">B")
    shape = r.unpack(f">{ndim}I")
    (ngroups,) = r.unpack(">B")
    strings = []
    for _ in range(ngroups):
        (count,) = r.unpack(">H")
        strings.append([r.take(r.unpack(">I")[0]) for _ in range(count)])
    if r.pos != len(r.data):
        raise CorruptStreamError("trailing bytes after the bitstream")
    if height == 0 or width == 0:
        raise CorruptStreamError("header declares an empty image")
    return Bitstream(codec, rate_point, height, width, tuple(shape), strings)
