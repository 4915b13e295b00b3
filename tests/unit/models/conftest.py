"""Fixtures shared by the codec tests."""

from __future__ import annotations

import pytest
import torch

from models.multirate.codec import MultiRateCodec

# One torch thread for every codec test, whichever files are selected: learned-codec results (the refined
# encoder's search above all) differ slightly with the thread count, so a file run alone must see what the
# suite sees.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def shipped_multirate() -> MultiRateCodec:
    """licbench-multirate on the shipped checkpoint (the tests that use it need the weights in the repository)."""
    codec = MultiRateCodec()
    assert codec.availability().available, codec.availability().reason
    return codec
