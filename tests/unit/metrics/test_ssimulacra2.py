"""SSIMULACRA 2 in memory equals the PyPI port (``ssimulacra2`` 0.3.0) run on PNG files, batch = one by one."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from metrics.scoring import to_tensor
from metrics.ssimulacra2 import SSIMULACRA2
from tests.support.calibration import calibration_tensors
from tests.support.images import random_photo

torch.set_num_threads(1)


def _port(tmp_path, reference: np.ndarray, distorted: list[np.ndarray]) -> list[float]:
    from ssimulacra2 import compute_ssimulacra2

    Image.fromarray(reference).save(tmp_path / "ref.png")
    out = []
    for i, image in enumerate(distorted):
        Image.fromarray(image).save(tmp_path / f"{i}.png")
        out.append(compute_ssimulacra2(str(tmp_path / "ref.png"), str(tmp_path / f"{i}.png")))
    return out


def _u8(t: torch.Tensor) -> np.ndarray:
    return (t.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


@pytest.mark.parametrize("shape", [(64, 96), (37, 53), (9, 200), (100, 8)])
def test_equals_the_port_on_random_photos_of_odd_sizes(tmp_path, shape):
    ref = random_photo(*shape, seed=shape[0])
    rng = np.random.default_rng(shape[1])
    noisy = [np.clip(ref.astype(int) + rng.integers(-a, a + 1, ref.shape), 0, 255).astype(np.uint8) for a in (3, 40)]
    ours = SSIMULACRA2().compute(to_tensor(ref), torch.cat([to_tensor(n) for n in noisy]))
    assert ours == pytest.approx(_port(tmp_path, ref, noisy), abs=1e-6)
    assert ours[0] > ours[1]
    assert ours[1:] == pytest.approx([SSIMULACRA2().compute(to_tensor(ref), to_tensor(noisy[1]))[0]], abs=1e-9)


def test_equals_the_port_on_calibration_pairs(tmp_path):
    for ref, dist in [calibration_tensors()[i] for i in (0, 2)]:
        ours = SSIMULACRA2().compute(ref, dist)
        assert ours == pytest.approx(_port(tmp_path, _u8(ref[0]), [_u8(dist[0])]), abs=1e-6)


def test_says_what_it_was_checked_against():
    assert "not validated" in SSIMULACRA2.reference and "1e-6" in SSIMULACRA2.reference
