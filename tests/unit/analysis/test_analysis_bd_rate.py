"""BD-rate and BD-quality: known answers on constructed curves, and n/a (never NaN) when undefined."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.bd_rate import bd_quality, bd_rate, compare_to_anchor
from analysis.compressai_json import published_reference_curves

BPP = [0.12, 0.2, 0.32, 0.48, 0.67, 0.94]
PSNR = [27.6, 29.2, 31.0, 32.8, 34.5, 36.7]


def test_a_curve_against_itself_is_zero():
    rate = bd_rate(BPP, PSNR, BPP, PSNR, metric="psnr")
    quality = bd_quality(BPP, PSNR, BPP, PSNR, metric="psnr")
    assert rate.value == pytest.approx(0.0, abs=1e-9) and rate.unit == "%"
    assert quality.value == pytest.approx(0.0, abs=1e-9) and quality.unit == "psnr"
    assert rate.points == (6, 6)


@pytest.mark.parametrize("factor", [1.10, 0.80])
def test_scaling_every_rate_at_equal_quality_gives_that_percentage(factor):
    test_bpp = [b * factor for b in BPP]
    assert bd_rate(BPP, PSNR, test_bpp, PSNR).value == pytest.approx((factor - 1) * 100, abs=1e-6)


def test_a_curve_one_db_higher_at_every_rate_gives_bd_psnr_of_one_db():
    shifted = [p + 1.0 for p in PSNR]
    assert bd_quality(BPP, PSNR, BPP, shifted, metric="psnr").value == pytest.approx(1.0, abs=1e-9)
    assert bd_rate(BPP, PSNR, BPP, shifted).value < 0  # better quality at equal rate -> fewer bits


def test_lower_is_better_metric_uses_falling_curves():
    distortion = [0.40, 0.31, 0.24, 0.18, 0.13, 0.09]  # e.g. LPIPS falls as rate rises
    test_bpp = [b * 1.1 for b in BPP]
    result = bd_rate(BPP, distortion, test_bpp, distortion, higher_is_better=False, metric="lpips")
    assert result.value == pytest.approx(10.0, abs=1e-6)
    refused = bd_rate(BPP, distortion, test_bpp, distortion, higher_is_better=True)
    assert refused.value is None and "not monotonic" in refused.reason


def test_fewer_than_four_overlapping_points_is_na_with_reason():
    high = [p + 6.0 for p in PSNR]  # only the top of the anchor overlaps the bottom of the test
    result = bd_rate(BPP, PSNR, BPP, high, metric="psnr")
    assert result.value is None
    assert "overlapping psnr range" in result.reason and "need at least 4" in result.reason
    three = bd_rate(BPP[:3], PSNR[:3], BPP, PSNR)
    assert three.value is None and "3 points" in three.reason


@pytest.mark.parametrize(
    "bpp, quality, words",
    [
        ([0.1, 0.2, 0.3, 0.4, 0.5], [30, 31, 30.5, 33, 34], "not monotonic"),
        ([0.1, 0.2, 0.2, 0.4, 0.5], [30, 31, 32, 33, 34], "same rate"),
        ([0.0, 0.2, 0.3, 0.4, 0.5], [30, 31, 32, 33, 34], "non-positive rate"),
        ([0.1, 0.2, 0.3, 0.4, 0.5], [30, 31, float("nan"), 33, 34], "non-finite"),
        ([0.1, 0.2, 0.3, 0.4], [30, 31, 32], "rates but"),
    ],
)
def test_unusable_curves_give_none_and_a_reason_never_nan(bpp, quality, words):
    for fn in (bd_rate, bd_quality):
        result = fn(BPP, PSNR, bpp, quality)
        assert result.value is None and words in result.reason
        assert not (isinstance(result.value, float) and math.isnan(result.value))


def test_disjoint_curves_are_na():
    result = bd_quality(BPP, PSNR, [b * 100 for b in BPP], PSNR)
    assert result.value is None and "do not overlap" in result.reason


def test_points_are_used_in_rate_order_whatever_order_they_come_in():
    order = [3, 0, 5, 1, 4, 2]
    shuffled_bpp = [BPP[i] * 1.1 for i in order]
    shuffled_psnr = [PSNR[i] for i in order]
    assert bd_rate(BPP, PSNR, shuffled_bpp, shuffled_psnr).value == pytest.approx(10.0, abs=1e-6)


def test_published_figures_rank_the_zoo_as_the_papers_do():
    curves = published_reference_curves()
    table = compare_to_anchor(
        {name: c.xy("psnr") for name, c in curves.items() if "ms-ssim" not in name},
        anchor="bmshj2018-hyperprior",
        metric="psnr",
    )
    by_codec = {row.codec: row for row in table}
    assert "bmshj2018-hyperprior" not in by_codec
    assert by_codec["bmshj2018-factorized"].bd_rate.value > 0  # no hyperprior: more bits
    assert by_codec["mbt2018-mean"].bd_rate.value < 0
    assert by_codec["mbt2018"].bd_rate.value < by_codec["mbt2018-mean"].bd_rate.value  # context model helps
    assert by_codec["cheng2020-anchor"].bd_rate.value < by_codec["mbt2018"].bd_rate.value
    assert all(np.isfinite(r.bd_quality.value) for r in table)


def test_missing_anchor_makes_every_row_na():
    table = compare_to_anchor({"a": (BPP, PSNR)}, anchor="jpeg", metric="psnr")
    assert len(table) == 1 and table[0].bd_rate.value is None and "jpeg" in table[0].bd_rate.reason
