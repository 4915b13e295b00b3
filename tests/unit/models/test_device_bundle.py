"""The GPU training bundle's stand-in for CompressAI's compiled CDF builder (scripts/device_bundle.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "device_bundle.py"


@pytest.fixture(scope="module")
def standin():
    spec = importlib.util.spec_from_file_location("device_bundle", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    namespace: dict = {}
    exec(compile(module.CXX_STANDIN, "_CXX.py", "exec"), namespace)
    return namespace["pmf_to_quantized_cdf"]


@pytest.mark.parametrize("pmf", [[1.0], [0.5, 0.5], [1e-12, 0.3, 0.7, 0.0], list(np.random.default_rng(0).random(300))])
def test_tables_are_valid_cdfs(standin, pmf):
    cdf = standin(pmf, 16)
    assert len(cdf) == len(pmf) + 1 and cdf[0] == 0 and cdf[-1] == 1 << 16
    assert all(b > a for a, b in zip(cdf, cdf[1:]))  # every symbol codable, as the rANS coder needs


def test_bad_mass_functions_are_refused(standin):
    for pmf in ([-0.1, 1.1], [0.0, 0.0], [float("nan"), 1.0]):
        with pytest.raises(ValueError):
            standin(pmf, 16)
