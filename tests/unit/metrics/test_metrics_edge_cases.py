"""Every metric on awkward inputs: a finite value or "not applicable" with a reason, never NaN,
never an exception. Learned metrics run with a random backbone saved under the expected name."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
import torch
import torchvision

from metrics.base import MetricContext
from metrics.psnr import PSNR_CAP_DB
from metrics.registry import build_metrics, metric_names
from metrics.scoring import Score
from metrics.scoring import score as score_with
from metrics.ssim import MS_SSIM_MIN_SIZE
from metrics.weights import ALEXNET, VGG16, vgg16_features

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def metrics(tmp_path_factory):
    """Every metric, the learned ones on random AlexNet/VGG16 features under torchvision's names,
    trusted by hash, for this module."""
    folder = tmp_path_factory.mktemp("weights")
    trusted = {}
    torch.manual_seed(0)
    for backbone, features in ((ALEXNET, torchvision.models.alexnet(weights=None).features), (VGG16, vgg16_features())):
        path = folder / backbone.file_name
        torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, path)
        trusted[backbone.file_name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return build_metrics(MetricContext(weights_dir=folder, trusted_sha256=trusted))


@pytest.fixture
def score(metrics):
    return lambda reference, distorted, names: score_with(reference, distorted, [metrics[n] for n in names])


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(1, h // 8), max(1, w // 8), 3)).astype(np.float32)
    t = torch.from_numpy(small).permute(2, 0, 1)[None]
    t = torch.nn.functional.interpolate(t, size=(h, w), mode="bilinear")
    return t[0].permute(1, 2, 0).round().clamp(0, 255).numpy().astype(np.uint8)


def _check(rows: list[dict[str, Score]], names: list[str]) -> None:
    for row in rows:
        assert list(row) == names
        for name, s in row.items():
            if s.value is None:
                assert s.reason, name
            else:
                assert math.isfinite(s.value), (name, s)


SIZES = [(1, 1), (5, 7), (16, 16), (33, 47), (49, 48), (160, 170), (161, 163)]


@pytest.mark.parametrize("h, w", SIZES)
def test_every_metric_gives_a_finite_value_or_a_reason_at_any_size(h, w, score):
    names = metric_names()
    ref = _photo(h, w)
    one_pixel = ref.copy()
    one_pixel[h // 2, w // 2, 1] ^= 1
    constant = np.full_like(ref, 128)
    black = np.zeros_like(ref)
    _check(score(ref, [ref, one_pixel, constant, black], names), names)
    _check(score(constant, [constant, ref, black], names), names)


def test_identical_images_give_each_metric_its_best_value(score):
    ref = _photo(176, 192)
    row = score(ref, [ref], metric_names())[0]
    assert row["psnr"].value == PSNR_CAP_DB and row["psnr-y"].value == PSNR_CAP_DB
    for name in ("ssim", "ms-ssim", "ms-ssim-y", "fsim", "haarpsi"):
        assert row[name].value == pytest.approx(1.0, abs=1e-5), name
    assert row["vif"].value == pytest.approx(1.0, abs=1e-3)
    assert row["vifp"].value == pytest.approx(1.0, abs=1e-3)
    assert row["iw-ssim"].value == pytest.approx(1.0, abs=1e-6)
    assert row["cvvdp"].value == pytest.approx(10.0, abs=1e-4)  # JOD: no visible difference
    assert row["flip"].value == 0.0
    for name in ("gmsd", "lpips", "lpips-vgg", "dists"):
        assert row[name].value == pytest.approx(0.0, abs=1e-5), name
    assert row["ssimulacra2"].value == pytest.approx(100.0)


def test_one_pixel_difference_is_seen_but_tiny(score):
    ref = _photo(176, 192)
    dist = ref.copy()
    dist[10, 10, 0] = 255 - dist[10, 10, 0]
    row = score(ref, [dist], ["psnr", "ssim", "ms-ssim", "gmsd"])[0]
    assert 40 < row["psnr"].value < PSNR_CAP_DB
    assert 0.99 < row["ssim"].value < 1.0
    assert 0.99 < row["ms-ssim"].value < 1.0
    assert 0.0 < row["gmsd"].value < 0.05


def test_below_ms_ssim_minimum_size_is_not_applicable_with_the_size_in_the_reason(score):
    small = _photo(MS_SSIM_MIN_SIZE - 1, 300)
    row = score(small, [small], ["ms-ssim", "ms-ssim-y", "ssim"])[0]
    for name in ("ms-ssim", "ms-ssim-y"):
        assert row[name].value is None
        assert f"{MS_SSIM_MIN_SIZE}x{MS_SSIM_MIN_SIZE}" in row[name].reason
        assert "300x160" in row[name].reason
    assert row["ssim"].value == pytest.approx(1.0)


def test_constant_images_are_defined(score):
    gray = np.full((64, 64, 3), 100, np.uint8)
    lighter = np.full((64, 64, 3), 110, np.uint8)
    row = score(gray, [gray, lighter], ["psnr", "ssim", "gmsd", "vifp", "fsim"])
    assert row[0]["ssim"].value == pytest.approx(1.0) and row[0]["gmsd"].value == pytest.approx(0.0)
    assert row[1]["psnr"].value == pytest.approx(10 * math.log10(255**2 / 100), abs=1e-3)
    assert row[1]["ssim"].value < 1.0


def test_a_failing_metric_becomes_a_reason_not_an_exception(monkeypatch, metrics, score):
    metric = metrics["gmsd"]

    def broken(prepared, distorted):
        raise RuntimeError("boom")

    monkeypatch.setattr(metric, "score_many", broken)  # scoring goes through prepare + score_many
    row = score(_photo(32, 32), [_photo(32, 32, seed=1)], ["psnr", "gmsd"])[0]
    assert row["psnr"].value is not None
    assert row["gmsd"] == Score(None, "gmsd failed: boom")
