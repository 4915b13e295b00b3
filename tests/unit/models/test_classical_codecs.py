"""Classical anchors keep the codec contract: bytes out, reconstruction decoded from those bytes alone."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from models.base import CodecError, CorruptStreamError
from models.codecs.avif import AvifCodec
from models.codecs.jpeg import Jpeg444Codec, JpegCodec
from models.codecs.jpegxl import JpegXlCodec
from models.codecs.webp import WebpCodec
from tests.support.images import gradient_photo as photo
from tests.support.images import psnr

CODECS = [JpegCodec(), Jpeg444Codec(), WebpCodec(), AvifCodec(), JpegXlCodec()]
IDS = [c.name for c in CODECS]


def test_every_anchor_is_available_here():
    for codec in CODECS:
        assert codec.availability().available, (codec.name, codec.availability().reason)


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_quality_sweep_gives_more_bytes_and_better_reconstructions(codec):
    image = photo()
    sizes, qualities = [], []
    for rate_point in codec.rate.points:
        data = codec.encode(image, rate_point)
        reconstruction = codec.decode(data)
        assert isinstance(data, bytes)
        assert reconstruction.shape == image.shape and reconstruction.dtype == np.uint8
        sizes.append(len(data))
        qualities.append(psnr(image, reconstruction))
    assert len(codec.rate.points) >= 5
    assert sizes[-1] > 2 * sizes[0]
    assert qualities[-1] > qualities[0] + 3


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_decoding_the_same_bytes_twice_gives_the_same_image(codec):
    data = codec.encode(photo(), codec.rate.points[2])
    np.testing.assert_array_equal(codec.decode(data), codec.decode(bytes(data)))


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_truncated_or_foreign_stream_raises_corrupt_stream_error(codec):
    data = codec.encode(photo(), codec.rate.points[3])
    with pytest.raises(CorruptStreamError):
        codec.decode(data[: len(data) // 3])
    with pytest.raises(CorruptStreamError):
        codec.decode(b"not an image at all")
    png = io.BytesIO()
    Image.fromarray(photo(), "RGB").save(png, format="PNG")
    with pytest.raises(CorruptStreamError):
        codec.decode(png.getvalue())


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
def test_rate_point_out_of_range_is_rejected(codec):
    with pytest.raises(CodecError):
        codec.encode(photo(), codec.rate.maximum + 1)
    with pytest.raises(CodecError):
        codec.encode(photo(), 50.5)


def test_jpeg_444_keeps_full_resolution_chroma_and_jpeg_stays_420():
    image = photo()
    with Image.open(io.BytesIO(JpegCodec().encode(image, 85))) as img:
        assert img.layer[1][1:3] == (1, 1) and img.layer[0][1:3] == (2, 2)  # luma 2x2 sampling: 4:2:0
    with Image.open(io.BytesIO(Jpeg444Codec().encode(image, 85))) as img:
        assert all(layer[1:3] == (1, 1) for layer in img.layer)
    assert JpegCodec().name == "jpeg" and Jpeg444Codec().name == "jpeg-444"
