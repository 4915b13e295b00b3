"""A reference prepared once scores reconstructions one at a time exactly as the batched call does."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.registry import build_metrics
from metrics.scoring import Score, prepare_reference, score, score_prepared
from tests.support.images import random_photo

# Metrics with their own reference-side split (ssim family, fsim, vif, vmaf) and plain ones (psnr, gmsd).
NAMES = ["psnr", "ssim", "ms-ssim", "ms-ssim-y", "fsim", "vif", "gmsd", "vmaf"]


def _reconstructions(reference: np.ndarray, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [np.clip(reference + rng.normal(0, 4 * (i + 1), reference.shape), 0, 255).astype(np.uint8) for i in range(n)]


def test_scores_from_a_prepared_reference_equal_the_batched_scores():
    metrics = build_metrics(names=NAMES)
    reference = random_photo(176, 184, seed=3)
    distorted = _reconstructions(reference, 3)
    batched = score(reference, distorted, metrics.values())
    prepared = prepare_reference(reference, metrics.values())
    one_at_a_time = [score_prepared(prepared, [d])[0] for d in distorted]
    for row_batched, row_single in zip(batched, one_at_a_time):
        assert list(row_single) == NAMES
        for name in NAMES:
            if row_batched[name].value is None:  # e.g. vmaf without an ffmpeg with libvmaf here
                assert row_single[name] == row_batched[name]
            else:
                assert row_single[name].value == pytest.approx(row_batched[name].value, rel=1e-5, abs=1e-6)
    assert batched[0]["psnr"].value > batched[2]["psnr"].value  # more noise, lower PSNR: real values


def test_prepare_runs_the_reference_side_once_per_metric(monkeypatch):
    metrics = build_metrics(names=["ms-ssim"])
    calls = []
    metric = metrics["ms-ssim"]
    original = metric.prepare
    monkeypatch.setattr(metric, "prepare", lambda ref: calls.append(1) or original(ref))
    reference = random_photo(168, 168, seed=4)
    prepared = prepare_reference(reference, metrics.values())
    for d in _reconstructions(reference, 3):
        score_prepared(prepared, [d])
    assert calls == [1]


def test_a_metric_failing_to_prepare_becomes_a_reason_and_the_others_still_score(monkeypatch):
    metrics = build_metrics(names=["psnr", "ssim"])

    def broken(reference):
        raise RuntimeError("no pyramid")

    monkeypatch.setattr(metrics["ssim"], "prepare", broken)
    reference = random_photo(32, 32, seed=6)
    row = score_prepared(prepare_reference(reference, metrics.values()), _reconstructions(reference, 1))[0]
    assert row["ssim"] == Score(None, "ssim failed: no pyramid")
    assert row["psnr"].value is not None


def test_a_prepared_reference_rejects_a_reconstruction_of_another_size():
    prepared = prepare_reference(random_photo(32, 32), build_metrics(names=["psnr"]).values())
    with pytest.raises(ValueError, match="shape mismatch"):
        score_prepared(prepared, [random_photo(32, 40)])
