"""The HEVC-intra (heic, heic-444) and JPEG 2000 anchors keep the codec contract: bytes out, the
reconstruction decoded from those bytes alone, bpp from the bytes, more rate -> more bytes and
better pictures, and a clear error for a stream that is not theirs."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from models.base import CodecContext, CodecError, CorruptStreamError
from models.codecs.heic import Heic444Codec, HeicCodec
from models.codecs.jpeg2000 import Jpeg2000Codec
from models.measure import measure
from models.registry import build_codecs
from tests.support.images import gradient_photo as photo
from tests.support.images import psnr, random_photo

CODECS = [HeicCodec(), Heic444Codec(), Jpeg2000Codec()]
IDS = [c.name for c in CODECS]


def test_registered_and_available_here():
    codecs = build_codecs(CodecContext())
    for name in IDS:
        assert codecs[name].kind == "classical"
        assert codecs[name].availability().available, codecs[name].availability().reason


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_rate_sweep_is_monotone_in_bytes_and_quality(codec):
    image = photo()
    sizes, qualities = [], []
    for rate_point in codec.rate.points:
        m = measure(codec, image, rate_point)
        assert m.bpp == pytest.approx(8 * len(m.bitstream) / (48 * 80))
        assert m.reconstruction.shape == image.shape and m.reconstruction.dtype == np.uint8
        sizes.append(len(m.bitstream))
        qualities.append(psnr(image, m.reconstruction))
    assert len(codec.rate.points) >= 5
    assert all(a < b for a, b in zip(sizes, sizes[1:])), sizes
    assert all(a < b + 0.2 for a, b in zip(qualities, qualities[1:])), qualities  # no real drop
    assert qualities[-1] > qualities[0] + 3


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_decoding_needs_only_the_bytes(codec):
    image = random_photo(40, 56, seed=2)
    data = codec.encode(image, codec.rate.points[3])
    fresh = type(codec)()  # another instance: nothing but the bytes travels
    reconstruction = fresh.decode(bytes(data))
    np.testing.assert_array_equal(reconstruction, codec.decode(data))
    assert reconstruction.shape == image.shape and psnr(image, reconstruction) > 25


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (17, 5)])
def test_odd_and_tiny_images_round_trip(codec, shape):
    image = np.random.default_rng(3).integers(0, 256, (*shape, 3), dtype=np.uint8)
    assert codec.decode(codec.encode(image, codec.rate.points[-1])).shape == image.shape


def _jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(photo()).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_truncated_or_foreign_stream_raises_corrupt_stream_error(codec):
    good = codec.encode(photo(), codec.rate.points[3])
    for bad in (b"", b"not an image", _jpeg_bytes(), good[: len(good) // 2]):
        with pytest.raises(CorruptStreamError):
            codec.decode(bad)


@pytest.mark.parametrize(
    "codec, bad_rate", [(HeicCodec(), 101), (Heic444Codec(), 50.5), (Jpeg2000Codec(), 90.0)], ids=IDS
)
def test_rate_points_outside_the_range_are_refused_with_the_range(codec, bad_rate):
    with pytest.raises(CodecError, match="rate point"):
        codec.encode(photo(), bad_rate)


def test_heic_444_keeps_chroma_that_420_loses():
    image = photo(64, 96)
    q = 95
    assert (
        psnr(image, Heic444Codec().decode(Heic444Codec().encode(image, q)))
        > psnr(image, HeicCodec().decode(HeicCodec().encode(image, q))) + 1
    )
