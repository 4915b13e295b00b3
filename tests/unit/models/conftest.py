"""Fixtures shared by the codec tests."""
from __future__ import annotations

import pytest

from models.multirate.codec import MultiRateCodec


@pytest.fixture(scope="session")
def shipped_multirate() -> MultiRateCodec:
    """licbench-multirate on the shipped checkpoint (the tests that use it need the weights in the repository)."""
    codec = MultiRateCodec()
    assert codec.availability().available, codec.availability().reason
    return codec
