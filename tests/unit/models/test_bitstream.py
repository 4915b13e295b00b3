"""The learned-codec container round-trips and rejects damaged input."""

from __future__ import annotations

import pytest

from models.base import CorruptStreamError
from models.bitstream import Bitstream, pack, unpack

STREAM = Bitstream("tiny-hyperprior", 3.0, 300, 451, (5, 8), [[b"\x01\x02\x03"], [b"", b"\xff" * 40]])


def test_pack_unpack_round_trip():
    assert unpack(pack(STREAM)) == STREAM


def test_truncated_stream_is_rejected():
    data = pack(STREAM)
    for cut in (3, 10, len(data) - 1):
        with pytest.raises(CorruptStreamError):
            unpack(data[:cut])


def test_wrong_magic_and_trailing_bytes_are_rejected():
    data = pack(STREAM)
    with pytest.raises(CorruptStreamError, match="magic"):
        unpack(b"XXXX" + data[4:])
    with pytest.raises(CorruptStreamError, match="trailing"):
        unpack(data + b"\x00")


def test_stream_of_another_codec_is_rejected():
    with pytest.raises(CorruptStreamError, match="written by codec"):
        unpack(pack(STREAM), expected_codec="jpeg")
