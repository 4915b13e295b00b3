"""The spine's metrics: PSNR against a numpy formula, MS-SSIM against pytorch_msssim, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
import pytorch_msssim
import torch

from metrics.psnr import PSNR_CAP_DB
from metrics.registry import build_metrics
from metrics.scoring import score as score_with
from tests.support.images import random_photo

REF = random_photo(200, 240, seed=3)


def score(reference, distorted, names):
    return score_with(reference, distorted, build_metrics(names=names).values())


def _noisy(image: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(np.round(image + rng.normal(0, sigma, image.shape)), 0, 255).astype(np.uint8)


def test_psnr_matches_the_numpy_formula():
    dists = [_noisy(REF, s, i) for i, s in enumerate((2, 8, 30))]
    got = [row["psnr"].value for row in score(REF, dists, ["psnr"])]
    for d, value in zip(dists, got):
        mse = np.mean((REF.astype(np.float64) - d) ** 2)
        assert value == pytest.approx(10 * np.log10(255**2 / mse), abs=1e-4)


def test_identical_images_get_the_documented_psnr_cap():
    assert score(REF, [REF.copy()], ["psnr"])[0]["psnr"].value == PSNR_CAP_DB


def test_ms_ssim_matches_pytorch_msssim():
    dist = _noisy(REF, 15, 7)
    ours = score(REF, [dist], ["ms-ssim"])[0]["ms-ssim"].value

    def to_t(a):
        return torch.from_numpy(a).permute(2, 0, 1)[None].double()

    reference = pytorch_msssim.ms_ssim(to_t(REF), to_t(dist), data_range=255).item()
    assert ours == pytest.approx(reference, abs=1e-4)


def test_ms_ssim_is_not_applicable_below_its_minimum_size():
    small = random_photo(100, 300)
    result = score(small, [_noisy(small, 5, 1)], ["ms-ssim", "psnr"])[0]
    assert result["ms-ssim"].value is None and "161" in result["ms-ssim"].reason
    assert result["psnr"].value is not None


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape mismatch"):
        score(REF, [REF[:-1]], ["psnr"])
