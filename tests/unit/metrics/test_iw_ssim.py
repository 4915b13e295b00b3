"""IW-SSIM (Wang and Li 2011) on the authors' grey input, equal to piq's implementation. Not validated against official
values: pyiqa (newest 0.1.16) has no iw_ssim to compare with, and no official values exist for the
calibration pairs; the metric's description and reference say so (checked here)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metrics.iw_ssim import IW_SSIM_MIN_SIZE, IWSSIM
from metrics.scoring import score, to_tensor
from tests.support.calibration import calibration_tensors
from tests.support.images import random_photo

torch.set_num_threads(1)


def test_says_it_is_not_validated_and_why():
    assert "not validated" in IWSSIM.description and "pyiqa" in IWSSIM.reference


def test_ranks_the_calibration_pairs_as_the_official_ms_ssim_values_do():
    pairs = [calibration_tensors()[i] for i in (0, 2, 4)]  # I03, I06, I19
    values = np.array([IWSSIM().compute(ref, dist)[0] for ref, dist in pairs])
    assert np.all((values > 0) & (values < 1))
    official_ms_ssim = np.array([0.6733, 0.9998, 0.8462])  # ../shared/REFERENCES.md
    assert np.argsort(values).tolist() == np.argsort(official_ms_ssim).tolist()


def test_falls_as_noise_grows_and_batch_equals_one_by_one():
    ref = random_photo(IW_SSIM_MIN_SIZE, 176, seed=5)
    rng = np.random.default_rng(0)
    noisy = [
        np.clip(ref.astype(int) + rng.integers(-a, a + 1, ref.shape), 0, 255).astype(np.uint8) for a in (5, 20, 60)
    ]
    batch = IWSSIM().compute(to_tensor(ref), torch.cat([to_tensor(n) for n in (ref, *noisy)]))
    assert batch[0] == pytest.approx(1.0, abs=1e-9)
    assert batch[1] > batch[2] > batch[3]
    assert batch[1:] == pytest.approx([IWSSIM().compute(to_tensor(ref), to_tensor(n))[0] for n in noisy], rel=1e-9)


def test_below_the_five_scale_minimum_is_not_applicable():
    small = random_photo(IW_SSIM_MIN_SIZE - 1, 200, seed=6)
    row = score(small, [small], [IWSSIM()])[0]
    assert row["iw-ssim"].value is None and "161x161" in row["iw-ssim"].reason


def test_equals_piqs_implementation_on_the_calibration_pairs_and_odd_sizes():
    import piq

    from metrics.colour import gray8
    from metrics.functional.iw_ssim import iw_ssim_batch

    pairs = [calibration_tensors()[i] for i in (0, 2, 4)]
    for ref, dist in pairs:
        expected = piq.information_weighted_ssim(
            gray8(dist).double(), gray8(ref).double(), data_range=1.0, reduction="none"
        )
        assert IWSSIM().compute(ref, dist) == pytest.approx(expected.tolist(), abs=1e-9)
    rng = np.random.default_rng(1)
    for h, w in ((161, 161), (173, 209)):
        ref = to_tensor(random_photo(h, w, seed=h))
        dist = torch.cat(
            [(ref + torch.from_numpy(rng.normal(0, s, ref.shape)).float()).clamp(0, 1) for s in (0.01, 0.1)]
        )
        r, d = gray8(ref).double(), gray8(dist).double()
        expected = piq.information_weighted_ssim(d, r.expand_as(d), data_range=1.0, reduction="none")
        assert iw_ssim_batch(r, d).tolist() == pytest.approx(expected.tolist(), abs=1e-9)
