"""Submitted models: the smoke round trip runs the real bitstream path on the network it is given."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from compressai.models import FactorizedPrior

from models.base import CodecContext, CodecKind, RateSpec
from models.submitted import CheckpointError, LoadedNetworkCodec, smoke_test, submitted_codec
from tests.support.images import random_photo


def _tiny_net() -> FactorizedPrior:
    torch.manual_seed(0)
    net = FactorizedPrior(8, 8)
    net.update(force=True)
    return net.eval()


def test_smoke_round_trip_passes_for_a_working_network():
    smoke_test(_tiny_net(), random_photo(64, 64, seed=1))


def test_smoke_round_trip_failure_is_a_checkpoint_error():
    class Broken(FactorizedPrior):
        def compress(self, x):
            raise RuntimeError("no entropy tables")

    with pytest.raises(CheckpointError, match="smoke encode/decode round trip failed: RuntimeError: no entropy"):
        smoke_test(Broken(8, 8), random_photo(64, 64, seed=1))


def test_loaded_network_codec_uses_its_network_uncached():
    net = _tiny_net()
    codec = LoadedNetworkCodec(
        name="probe", kind=CodecKind.SUBMITTED, loaded=net, rate=RateSpec(points=(1.0,), minimum=1, maximum=1)
    )
    assert codec.network(1) is net and len(codec.context.networks) == 0
    image = random_photo(64, 64, seed=2)
    assert codec.decode(codec.encode(image, 1)).shape == image.shape


def test_codec_kinds_compare_equal_to_their_strings():
    assert CodecKind.SUBMITTED == "submitted" and f"{CodecKind.CLASSICAL}" == "classical"
    codec = submitted_codec("x", "bmshj2018-factorized", {1: Path("absent.pth")}, CodecContext())
    assert codec.kind is CodecKind.SUBMITTED
