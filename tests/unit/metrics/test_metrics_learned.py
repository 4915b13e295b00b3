"""LPIPS and DISTS: backbones load from the weights folder by torchvision's file name, hash checked,
and our batched implementations equal the reference packages (``lpips``, ``DISTS_pytorch``) given
the same backbone weights.

No ImageNet weights exist on this machine, so each test builds the backbone architecture with
random weights (fixed seed), saves it under the expected torchvision file name, and registers that
file's SHA-256 as trusted in the ``MetricContext`` (production checks the published prefix).
"""

from __future__ import annotations

import copy
import hashlib
import types
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision

from metrics.base import MetricContext
from metrics.dists import DISTS, dists_weights_path
from metrics.lpips import LPIPS, LPIPSVGG
from metrics.weights import ALEXNET, VGG16, vgg16_features

torch.set_num_threads(1)


def _random_features(backbone) -> torch.nn.Sequential:
    torch.manual_seed(0)
    if backbone is ALEXNET:
        features = torchvision.models.alexnet(weights=None).features
    else:
        features = vgg16_features()
    # Small positive biases keep ReLU features alive through the random network.
    for module in features:
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.normal_(module.bias, 0.05, 0.01)
    return features.eval()


def _save(features: torch.nn.Sequential, folder: Path, file_name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name
    torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def backbones(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("weights")
    out = {"folder": folder, "trusted": {}}
    for backbone in (ALEXNET, VGG16):
        features = _random_features(backbone)
        out[backbone.file_name] = features
        out["trusted"][backbone.file_name] = _save(features, folder, backbone.file_name)
    return out


def _context(backbones) -> MetricContext:
    return MetricContext(weights_dir=backbones["folder"], device="cpu", trusted_sha256=backbones["trusted"])


def _images(n: int = 3, size: tuple[int, int] = (64, 80), seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    ref = rng.integers(0, 256, (1, 3, *size)).astype(np.float32)
    noise = rng.normal(0, 1, (n, 3, *size)) * np.array([5, 20, 40][:n]).reshape(n, 1, 1, 1)
    dist = np.clip(np.round(ref + noise), 0, 255).astype(np.float32)
    return torch.from_numpy(ref) / 255, torch.from_numpy(dist) / 255


def test_missing_backbone_is_unavailable_naming_file_and_folder(tmp_path):
    for metric, backbone in ((LPIPS, ALEXNET), (LPIPSVGG, VGG16), (DISTS, VGG16)):
        availability = metric(MetricContext(weights_dir=tmp_path / "weights")).availability()
        assert not availability.available
        assert backbone.file_name in availability.reason
        assert str((tmp_path / "weights").resolve()) in availability.reason


def test_backbone_with_wrong_hash_is_rejected_without_a_trusted_override(backbones):
    availability = LPIPS(MetricContext(weights_dir=backbones["folder"])).availability()
    assert not availability.available
    assert "7be5be79" in availability.reason  # the published prefix it expected


def test_trusted_hash_override_makes_the_saved_backbone_available(backbones):
    assert LPIPS(_context(backbones)).availability().available
    assert DISTS(_context(backbones)).availability().available


def test_published_hash_prefix_is_read_from_torchvision_file_names():
    assert ALEXNET.sha256_prefix == "7be5be79"
    assert VGG16.sha256_prefix == "397923af"


def _reference_backbone_factory(features: torch.nn.Sequential):
    """Stands in for ``torchvision.models.<net>(pretrained=True)`` inside the reference packages."""

    def factory(*args, **kwargs):
        return types.SimpleNamespace(features=copy.deepcopy(features))

    return factory


@pytest.mark.parametrize("metric_cls, net, backbone", [(LPIPS, "alex", ALEXNET), (LPIPSVGG, "vgg", VGG16)])
def test_lpips_equals_the_lpips_package_with_the_same_backbone(backbones, monkeypatch, metric_cls, net, backbone):
    import lpips
    import lpips.pretrained_networks as pn

    monkeypatch.setattr(
        pn.tv, "alexnet" if net == "alex" else "vgg16", _reference_backbone_factory(backbones[backbone.file_name])
    )
    reference_model = lpips.LPIPS(net=net, version="0.1", verbose=False).eval()
    ref, dist = _images()
    with torch.no_grad():
        expected = [float(reference_model(d[None], ref, normalize=True)) for d in dist]
    ours = metric_cls(_context(backbones)).compute(ref, dist)
    assert len(set(round(v, 4) for v in expected)) == len(expected)  # the images are told apart
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-6)


def test_dists_equals_the_dists_package_with_the_same_backbone(backbones, monkeypatch):
    from DISTS_pytorch import DISTS_pt

    monkeypatch.setattr(DISTS_pt.models, "vgg16", _reference_backbone_factory(backbones[VGG16.file_name]))
    # The package's own loader reads weights.pt from sys.prefix without map_location (fails on a
    # CPU-only machine: the file holds CUDA tensors), so alpha/beta are set from the same file here.
    reference_model = DISTS_pt.DISTS(load_weights=False).eval()
    learned = torch.load(dists_weights_path(), map_location="cpu", weights_only=True)
    reference_model.alpha.data, reference_model.beta.data = learned["alpha"], learned["beta"]
    ref, dist = _images()
    with torch.no_grad():
        expected = [float(reference_model(ref, d[None])) for d in dist]
    ours = DISTS(_context(backbones)).compute(ref, dist)
    assert len(set(round(v, 4) for v in expected)) == len(expected)
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-6)


def test_identical_images_score_zero_distance(backbones):
    ref, _ = _images(n=1)
    for metric_cls in (LPIPS, DISTS):
        assert metric_cls(_context(backbones)).compute(ref, ref)[0] == pytest.approx(0.0, abs=1e-5)


def test_batched_scores_equal_one_at_a_time(backbones):
    ref, dist = _images()
    for metric_cls in (LPIPS, DISTS):
        metric = metric_cls(_context(backbones))
        together = metric.compute(ref, dist)
        alone = [metric.compute(ref, d[None])[0] for d in dist]
        np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-7)
