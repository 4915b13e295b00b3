"""licbench-multirate: bitstreams, rate parameter, checkpoints (tiny random networks + the shipped one)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.base import CodecContext, CodecError, CorruptStreamError
from models.multirate import fileformat
from models.multirate.checkpoint import load_network, model_id, save_exported
from models.multirate.codec import PACKAGE_WEIGHTS, WEIGHTS_FILE, MultiRateCodec
from models.multirate.network import MultiRateCheckerboard, MultiRateConfig
from models.photos import load_photo
from models.registry import build_codecs

LAMBDAS = (0.002, 0.01, 0.05)


def tiny_codec(tmp_path, seed: int = 0, name: str = "multirate.pth") -> MultiRateCodec:
    """A codec over a small randomly initialised network, saved and loaded through the real checkpoint code."""
    torch.manual_seed(seed)
    net = MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=LAMBDAS))
    path = save_exported(net, tmp_path / name)
    return MultiRateCodec(checkpoint=path)


@pytest.fixture()
def codec(tmp_path):
    return tiny_codec(tmp_path)


@pytest.fixture(scope="module")
def photo():
    return np.ascontiguousarray(load_photo("astronaut")[100:170, 150:250])  # 70x100: not a multiple of 64


def test_decode_from_bytes_matches_encoder_reconstruction(codec, photo):
    for rate in (0.0, 0.37, 1.0):
        data, reconstruction = codec.encode_with_reconstruction(photo, rate)
        decoded = MultiRateCodec(checkpoint=codec.checkpoint).decode(data)  # a fresh decoder: bytes only
        assert decoded.shape == photo.shape and decoded.dtype == np.uint8
        assert np.array_equal(decoded, reconstruction)


def test_encoding_and_decoding_are_deterministic(codec, photo):
    first, second = codec.encode(photo, 0.5), codec.encode(photo, 0.5)
    assert first == second
    assert np.array_equal(codec.decode(first), codec.decode(first))


def test_header_records_size_rate_and_model(codec, photo):
    data = codec.encode(photo, 0.25)
    f = fileformat.unpack(data)
    assert (f.height, f.width, f.rate, f.version) == (70, 100, 0.25, fileformat.VERSION)
    assert f.model_id == codec.model_id
    assert len(f.streams) == 3  # anchors, non-anchors, hyper-latent
    assert codec.describe_file(data)["bpp"] == pytest.approx(8 * len(data) / (70 * 100))


@pytest.mark.parametrize("keep", [0, 2, 10, 30, -1])
def test_truncated_file_raises_corrupt_stream_error(codec, photo, keep):
    data = codec.encode(photo, 0.5)
    with pytest.raises(CorruptStreamError, match="truncated|checksum"):
        codec.decode(data[:keep])


def test_flipped_bit_raises_corrupt_stream_error(codec, photo):
    data = bytearray(codec.encode(photo, 0.5))
    data[-5] ^= 0x10  # last payload byte (the hyper-latent stream), before the checksum
    with pytest.raises(CorruptStreamError, match="checksum"):
        codec.decode(bytes(data))


def test_foreign_bytes_raise_corrupt_stream_error(codec):
    with pytest.raises(CorruptStreamError, match="bad magic"):
        codec.decode(b"\x89PNG\r\n\x1a\n" + bytes(64))


def test_file_from_another_model_is_rejected(codec, photo, tmp_path):
    other = tiny_codec(tmp_path, seed=1, name="other.pth")
    with pytest.raises(CorruptStreamError, match="written by model"):
        codec.decode(other.encode(photo, 0.5))


@pytest.mark.parametrize("rate", [-0.01, 1.01, float("nan"), "0.5"])
def test_rate_outside_unit_interval_is_rejected(codec, photo, rate):
    with pytest.raises(CodecError):
        codec.encode(photo, rate)


def test_lambda_maps_into_rate_parameter_and_back(codec):
    assert codec.rate_for_lambda(LAMBDAS[0]) == 0.0
    assert codec.rate_for_lambda(LAMBDAS[-1]) == 1.0
    assert codec.rate_for_lambda(LAMBDAS[1]) == pytest.approx(0.5)
    for rate in (0.1, 0.5, 0.8):
        assert codec.rate_for_lambda(codec.lambda_for_rate(rate)) == pytest.approx(rate)
    # between trained lambdas the mapping is log-linear
    assert codec.lambda_for_rate(0.25) == pytest.approx(np.sqrt(LAMBDAS[0] * LAMBDAS[1]))
    with pytest.raises(CodecError, match="outside the trained range"):
        codec.rate_for_lambda(LAMBDAS[-1] * 2)


def test_gain_vectors_interpolate_exponentially_between_trained_points():
    net = MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=LAMBDAS))
    low, high, middle = net.gains(0), net.gains(1), net.gains(0.5)
    assert torch.allclose(middle.y, torch.sqrt(low.y * high.y))
    assert torch.allclose(middle.z_inv, torch.sqrt(low.z_inv * high.z_inv))
    with pytest.raises(ValueError):
        net.gains(len(LAMBDAS))


def test_checkpoint_save_and_load_round_trip(tmp_path):
    torch.manual_seed(3)
    net = MultiRateCheckerboard(MultiRateConfig(N=8, M=16, lambdas=LAMBDAS))
    with torch.no_grad():
        net.y_log_gain.add_(0.1)  # something a fresh network would not have
    path = save_exported(net, tmp_path / "net.pth")
    loaded = load_network(path)
    net.update(force=True)  # the loaded copy rebuilt its rANS tables; they must come out identical
    assert loaded.config == net.config
    assert model_id(loaded) == model_id(net)
    for key, value in net.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert net.compress(x, 1.5)["strings"] == loaded.compress(x, 1.5)["strings"]


def test_half_checkpoint_is_half_the_size_and_codes_like_the_rounded_network(tmp_path, photo):
    torch.manual_seed(4)
    net = MultiRateCheckerboard(MultiRateConfig(N=8, M=16, lambdas=LAMBDAS))
    half_path = save_exported(net, tmp_path / "half.pth", half=True)
    full_path = save_exported(net, tmp_path / "full.pth")
    stored = torch.load(half_path, weights_only=True)["state_dict"]
    parameters = dict(net.named_parameters())
    assert all(stored[k].dtype == torch.float16 for k in parameters)
    assert half_path.stat().st_size < 0.6 * full_path.stat().st_size
    # buffers keep their exact values: float16 would flush the 1e-9 likelihood bound and GDN's pedestal to 0
    buffers = dict(net.named_buffers())
    bound = "y_codec.y.gaussian_conditional.likelihood_lower_bound.bound"
    assert float(stored[bound]) == float(buffers[bound]) > 0
    assert all(torch.equal(stored[k], v) for k, v in buffers.items() if k in stored)
    # the same network with its parameters rounded to float16 in memory, written as float32
    with torch.no_grad():
        for tensor in parameters.values():
            tensor.copy_(tensor.half().float())
    rounded_path = save_exported(net, tmp_path / "rounded.pth")
    loaded = load_network(half_path)
    assert all(t.dtype == torch.float32 for t in loaded.state_dict().values() if t.is_floating_point())
    assert model_id(loaded) == model_id(load_network(rounded_path))
    half, rounded = MultiRateCodec(checkpoint=half_path), MultiRateCodec(checkpoint=rounded_path)
    for rate in (0.0, 0.5, 1.0):
        data = half.encode(photo, rate)
        assert data == rounded.encode(photo, rate)
        assert np.array_equal(half.decode(data), rounded.decode(data))


def test_weights_beyond_float16_are_not_stored_as_float16(tmp_path):
    net = MultiRateCheckerboard(MultiRateConfig(N=8, M=8, lambdas=LAMBDAS))
    with torch.no_grad():
        net.y_log_gain.fill_(1e6)
    with pytest.raises(ValueError, match="does not fit float16"):
        save_exported(net, tmp_path / "big.pth", half=True)


def test_checkpoint_of_another_format_is_refused(tmp_path):
    torch.save({"state_dict": {}}, tmp_path / "foreign.pth")
    codec = MultiRateCodec(checkpoint=tmp_path / "foreign.pth")
    with pytest.raises(CodecError, match="not a licbench-multirate checkpoint"):
        codec.encode(np.zeros((8, 8, 3), np.uint8), 0.5)


def test_missing_checkpoint_says_which_file_goes_where(tmp_path):
    codec = MultiRateCodec(checkpoint=tmp_path / "multirate.pth")
    availability = codec.availability()
    assert not availability.available
    assert str(tmp_path / "multirate.pth") in availability.reason
    with pytest.raises(CodecError, match="missing weights file"):
        codec.encode(np.zeros((8, 8, 3), np.uint8), 0.5)


def test_registered_with_continuous_rate_spec():
    codec = build_codecs(CodecContext())["licbench-multirate"]
    assert codec.kind == "learned"
    assert (codec.rate.minimum, codec.rate.maximum, codec.rate.integer) == (0.0, 1.0, False)
    assert len(set(codec.rate.points)) == 16 and codec.rate.points[0] == 0.0 and codec.rate.points[-1] == 1.0
    assert codec.checkpoint == PACKAGE_WEIGHTS / WEIGHTS_FILE


# --- the shipped checkpoint -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped(shipped_multirate):
    return shipped_multirate


@pytest.fixture(scope="module")
def demo_crop():
    return np.ascontiguousarray(load_photo("coffee")[96:224, 160:352])  # 128x192, never seen in training


def _bpp_psnr(codec, image, rate):
    data = codec.encode(image, rate)
    decoded = codec.decode(data).astype(np.float64)
    mse = np.mean((decoded - image.astype(np.float64)) ** 2)
    return 8 * len(data) / (image.shape[0] * image.shape[1]), 10 * np.log10(255**2 / mse)


def test_shipped_checkpoint_bpp_increases_with_rate_parameter(shipped, demo_crop):
    points = [_bpp_psnr(shipped, demo_crop, r) for r in shipped.rate.points]
    bpps = [b for b, _ in points]
    assert all(b2 > b1 for b1, b2 in zip(bpps, bpps[1:])), bpps
    assert points[-1][1] > points[0][1] + 1  # the top of the range is clearly better quality


def test_shipped_checkpoint_continuous_rate_between_trained_points(shipped, demo_crop):
    step = 1 / (len(shipped.lambdas) - 1)  # trained points sit at multiples of this
    low, high = step, 2 * step
    between = [low + f * step for f in (0.25, 0.5, 0.75)]
    bpps = [_bpp_psnr(shipped, demo_crop, r)[0] for r in [low, *between, high]]
    assert all(b2 > b1 for b1, b2 in zip(bpps, bpps[1:])), bpps
