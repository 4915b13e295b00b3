"""licbench-single-rate: K single-lambda networks in one weights file, rate point = lambda."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from models.base import CodecContext, CodecError, CorruptStreamError
from models.codecs.single_rate import SINGLE_RATE_LAMBDAS, SingleRateCodec, load_bundle, save_bundle
from models.multirate import fileformat
from models.multirate.network import MultiRateCheckerboard, MultiRateConfig
from models.photos import load_photo
from models.registry import build_codecs


def tiny_nets(lambdas=SINGLE_RATE_LAMBDAS, seed=0):
    nets = []
    for k, lmbda in enumerate(lambdas):
        torch.manual_seed(seed + k)
        nets.append(MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=(lmbda,))))
    return nets


@pytest.fixture()
def codec(tmp_path):
    return SingleRateCodec(checkpoint=save_bundle(tiny_nets(), tmp_path / "single-rate.pth"))


@pytest.fixture(scope="module")
def photo():
    return np.ascontiguousarray(load_photo("astronaut")[100:170, 150:250])  # 70x100


def test_each_lambda_decodes_from_bytes_as_the_encoder_reconstructed(codec, photo):
    fresh = SingleRateCodec(checkpoint=codec.checkpoint)  # a decoder that only has the bytes
    for lmbda in SINGLE_RATE_LAMBDAS:
        data, reconstruction = codec.encode_with_reconstruction(photo, lmbda)
        assert fileformat.unpack(data).rate == lmbda
        decoded = fresh.decode(data)
        assert np.array_equal(decoded, reconstruction) and np.array_equal(decoded, fresh.decode(data))


def test_models_differ_per_lambda(codec, photo):
    files = [codec.encode(photo, lmbda) for lmbda in SINGLE_RATE_LAMBDAS]
    assert len({fileformat.unpack(f).model_id for f in files}) == len(SINGLE_RATE_LAMBDAS)


def test_only_trained_lambdas_are_rate_points(codec, photo):
    with pytest.raises(CodecError, match="not offered"):
        codec.encode(photo, 0.005)
    with pytest.raises(CodecError, match="out of range"):
        codec.encode(photo, 0.5)


def test_file_of_another_model_is_refused(codec, tmp_path, photo):
    other = SingleRateCodec(checkpoint=save_bundle(tiny_nets(seed=50), tmp_path / "other.pth"))
    with pytest.raises(CorruptStreamError, match="none of the"):
        codec.decode(other.encode(photo, SINGLE_RATE_LAMBDAS[0]))


def test_missing_weights_make_it_unavailable_with_the_file(tmp_path, photo):
    codec = SingleRateCodec(checkpoint=tmp_path / "absent.pth")
    availability = codec.availability()
    assert not availability.available and str(tmp_path / "absent.pth") in availability.reason
    with pytest.raises(CodecError, match="missing weights file"):
        codec.encode(photo, SINGLE_RATE_LAMBDAS[0])


def test_bundle_with_other_lambdas_is_refused_with_a_reason(tmp_path, photo):
    codec = SingleRateCodec(checkpoint=save_bundle(tiny_nets((0.001, 0.01)), tmp_path / "x.pth"))
    with pytest.raises(CodecError, match="holds lambdas"):
        codec.encode(photo, SINGLE_RATE_LAMBDAS[0])


def test_bundle_must_be_single_lambda_and_rising(tmp_path):
    multi = MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=(0.001, 0.01)))
    with pytest.raises(ValueError, match="exactly one lambda"):
        save_bundle([multi], tmp_path / "x.pth")
    with pytest.raises(ValueError, match="rising"):
        save_bundle(tiny_nets()[::-1], tmp_path / "x.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(pickle.UnpicklingError):  # torch.load(weights_only=True) on bytes that are no pickle
        load_bundle(tmp_path / "junk.pth")


def test_float16_bundle_loads_as_float32_and_decodes_as_its_encoder(tmp_path, photo):
    path = save_bundle(tiny_nets(), tmp_path / "half.pth", half=True)
    assert path.stat().st_size < save_bundle(tiny_nets(), tmp_path / "full.pth").stat().st_size
    nets = load_bundle(path)
    assert all(p.dtype == torch.float32 for net in nets for p in net.parameters())
    encoder, decoder = SingleRateCodec(checkpoint=path), SingleRateCodec(checkpoint=path)
    data, reconstruction = encoder.encode_with_reconstruction(photo, SINGLE_RATE_LAMBDAS[2])
    assert np.array_equal(decoder.decode(data), reconstruction)


def test_registered_next_to_the_multirate_codec():
    codecs = build_codecs(CodecContext())
    assert "licbench-single-rate" in codecs and "licbench-multirate" in codecs
    assert "tiny-hyperprior" in codecs
    assert codecs["licbench-single-rate"].rate.points == SINGLE_RATE_LAMBDAS
