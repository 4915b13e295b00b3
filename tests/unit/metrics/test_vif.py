"""``vif`` is the wavelet-domain VIF of Sheikh and Bovik 2006: the official values of the authors'
vifvec.m on pyiqa's calibration pairs, within 1% (and the pixel-domain VIFp is not that index)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metrics.colour import luma
from metrics.scoring import to_tensor
from metrics.vif import VIF, VIF_MIN_SIZE
from metrics.vifp import vif_p
from tests.support.calibration import OFFICIAL_VIF, calibration_tensors
from tests.support.images import random_photo

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def pairs():
    return calibration_tensors()


def test_vif_matches_the_authors_vifvec_within_one_percent(pairs):
    ours = np.array([VIF().compute(ref, dist)[0] for ref, dist in pairs])
    official = np.array(OFFICIAL_VIF)
    allowed = np.maximum(0.01 * official, 5e-5)  # never tighter than the 4 published decimals
    assert np.all(np.abs(ours - official) <= allowed), (
        f"ours {np.round(ours, 4).tolist()}, official {official.tolist()}"
    )


def test_pixel_domain_vifp_differs_from_the_official_wavelet_vif(pairs):
    ref, dist = pairs[0]  # I03: VIFp ~0.07, VIF 0.0172
    vifp = float(vif_p(luma(ref) * 255, luma(dist) * 255)[0])
    assert abs(vifp - OFFICIAL_VIF[0]) / OFFICIAL_VIF[0] > 0.5


def test_identical_image_scores_one_and_batch_equals_one_by_one():
    ref = to_tensor(random_photo(96, 112, seed=1))
    noisy = [
        to_tensor(
            np.clip(
                random_photo(96, 112, seed=1).astype(int)
                + np.random.default_rng(s).integers(-s * 8, s * 8 + 1, (96, 112, 3)),
                0,
                255,
            ).astype(np.uint8)
        )
        for s in (1, 3)
    ]
    batch = torch.cat([ref, *noisy])
    values = VIF().compute(ref, batch)
    assert values[0] == pytest.approx(1.0, abs=1e-9)
    assert values[0] > values[1] > values[2] > 0  # more noise, less information
    assert values[1:] == pytest.approx([VIF().compute(ref, n)[0] for n in noisy], rel=1e-12)


def test_too_small_images_are_not_applicable():
    metric = VIF()
    assert metric.not_applicable(VIF_MIN_SIZE - 1, 200) is not None
    assert metric.not_applicable(VIF_MIN_SIZE, VIF_MIN_SIZE) is None
    ref = to_tensor(random_photo(VIF_MIN_SIZE, VIF_MIN_SIZE, seed=2))
    assert metric.compute(ref, ref)[0] == pytest.approx(1.0, abs=1e-9)
