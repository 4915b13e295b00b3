"""The spine's codecs: real bytes out, reconstructions decoded from those bytes only."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.base import CodecContext, CodecError, CorruptStreamError
from models.codecs.jpeg import JpegCodec
from models.codecs.tiny_hyperprior import TinyHyperpriorCodec, build_tiny_hyperprior
from models.learned import crop_padding, image_to_tensor, pad_to_multiple, tensor_to_image
from models.measure import measure
from tests.support.images import random_photo

IMAGE = random_photo(100, 140, seed=1)


def test_jpeg_bpp_comes_from_the_bytes_written():
    m = measure(JpegCodec(), IMAGE, 50)
    assert m.bpp == pytest.approx(8 * len(m.bitstream) / (100 * 140))
    assert m.bitstream[:2] == b"\xff\xd8"  # a real JPEG file
    assert m.reconstruction.shape == IMAGE.shape


def test_jpeg_rate_increases_with_quality():
    sizes = [len(JpegCodec().encode(IMAGE, q)) for q in (10, 50, 90)]
    assert sizes == sorted(sizes) and len(set(sizes)) == 3


@pytest.mark.parametrize("bad", [0, 96, 50.5, "50", float("nan")])
def test_jpeg_rejects_rate_points_out_of_range(bad):
    with pytest.raises(CodecError):
        JpegCodec().encode(IMAGE, bad)


def test_jpeg_rejects_a_corrupt_stream():
    data = JpegCodec().encode(IMAGE, 50)
    with pytest.raises(CorruptStreamError):
        JpegCodec().decode(data[:20])


def test_padding_is_undone_exactly():
    x = image_to_tensor(IMAGE)
    padded, padding = pad_to_multiple(x, 64)
    assert padded.shape[-2:] == (128, 192)
    assert np.array_equal(tensor_to_image(crop_padding(padded, padding)), IMAGE)


@pytest.fixture
def test_weights(tmp_path):
    """Random-init checkpoints of the tiny-hyperprior architecture, saved like the shipped ones."""
    torch.manual_seed(0)
    net = build_tiny_hyperprior()
    net.update(force=True)
    path = tmp_path / "tiny-hyperprior-q1.pth"
    torch.save(net.state_dict(), path)
    return {1: path}


def test_learned_codec_decodes_from_bytes_what_the_encoder_reconstructs(test_weights):
    codec = TinyHyperpriorCodec(checkpoints=test_weights)
    data = codec.encode(IMAGE, 1)
    decoded = codec.decode(data)
    # Encoder-side reconstruction: synthesis of the quantised latent, computed without the bitstream.
    net = codec.network(1)
    with torch.no_grad():
        padded, padding = pad_to_multiple(image_to_tensor(IMAGE), 64)
        y_hat = torch.round(net.g_a(padded))
        expected = tensor_to_image(crop_padding(net.g_s(y_hat), padding))
    assert np.abs(decoded.astype(int) - expected.astype(int)).max() <= 1
    assert decoded.shape == IMAGE.shape


def test_learned_codec_reports_missing_weights_by_name(tmp_path):
    codec = TinyHyperpriorCodec(checkpoints={1: tmp_path / "tiny-hyperprior-q1.pth"})
    availability = codec.availability()
    assert not availability.available and "tiny-hyperprior-q1.pth" in availability.reason
    with pytest.raises(CodecError, match="missing"):
        codec.encode(IMAGE, 1)


def test_learned_codec_rejects_damaged_bytes(test_weights):
    codec = TinyHyperpriorCodec(checkpoints=test_weights)
    data = codec.encode(IMAGE, 1)
    with pytest.raises(CorruptStreamError):
        codec.decode(data[: len(data) - 5])


def test_shipped_tiny_hyperprior_weights_give_a_monotone_rd_curve():
    codec = TinyHyperpriorCodec(context=CodecContext())
    assert codec.availability().available, codec.availability().reason
    from models.photos import load_photo

    image = load_photo("chelsea")
    points = [measure(codec, image, q) for q in codec.rate.points]
    bpps = [p.bpp for p in points]
    mses = [float(np.mean((p.reconstruction.astype(float) - image) ** 2)) for p in points]
    assert bpps == sorted(bpps)
    assert mses == sorted(mses, reverse=True)
