"""RD points are arithmetic means over images per (codec, rate point), as CompressAI's eval averages."""

from __future__ import annotations

import pytest

from analysis.rd import average_rd_points


def rows():
    return [
        {"codec": "jpeg", "rate_point": 50, "image": "a", "bpp": 1.0, "metrics": {"psnr": 30.0, "ms-ssim": 0.95}},
        {"codec": "jpeg", "rate_point": 50, "image": "b", "bpp": 2.0, "metrics": {"psnr": 40.0, "ms-ssim": 0.99}},
        {"codec": "jpeg", "rate_point": 10, "image": "a", "bpp": 0.3, "metrics": {"psnr": 25.0, "ms-ssim": None}},
        {"codec": "jpeg", "rate_point": 10, "image": "b", "bpp": 0.5, "metrics": {"psnr": 27.0, "ms-ssim": 0.90}},
        {"codec": "mbt2018", "rate_point": 1, "image": "a", "bpp": 0.1, "metrics": {"psnr": 28.0}},
    ]


def test_means_are_arithmetic_over_images_not_psnr_of_mean_mse():
    curves = average_rd_points(rows())
    q50 = next(p for p in curves["jpeg"].points if p.rate_point == 50)
    assert q50.bpp == pytest.approx(1.5)
    assert q50.metrics["psnr"] == pytest.approx(35.0)  # PSNR of the mean MSE would be about 32.6
    assert q50.n_images == 2


def test_points_are_sorted_by_bpp_and_missing_metric_values_are_left_out():
    curve = average_rd_points(rows())["jpeg"]
    assert [p.rate_point for p in curve.points] == [10, 50]
    q10 = curve.points[0]
    assert q10.metrics["ms-ssim"] == pytest.approx(0.90)
    assert q10.metric_counts == {"psnr": 2, "ms-ssim": 1}
    assert curve.xy("psnr") == ([pytest.approx(0.4), pytest.approx(1.5)], [26.0, 35.0])


def test_each_codec_gets_its_own_curve():
    curves = average_rd_points(rows())
    assert sorted(curves) == ["jpeg", "mbt2018"]
    assert curves["mbt2018"].xy("ms-ssim") == ([], [])


def test_rows_without_a_finite_bpp_are_skipped():
    curves = average_rd_points(rows() + [{"codec": "jpeg", "rate_point": 10, "bpp": None, "metrics": {}}])
    assert curves["jpeg"].points[0].n_images == 2
