"""The registry: every metric of the issue is registered once, describes itself, and is built on
the context its caller passes (weights folder and device), with no state kept in the library."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.base import Metric, MetricContext
from metrics.registry import build_metrics, create_metric, metric_class, metric_names

ISSUE_NAMES = [
    "psnr",
    "psnr-y",
    "ssim",
    "ms-ssim",
    "ms-ssim-y",
    "vif",
    "vifp",
    "lpips",
    "lpips-vgg",
    "dists",
    "vmaf",
    "vmaf-neg",
    "fsim",
    "gmsd",
    "haarpsi",
    "ssimulacra2",
    "iw-ssim",
    "cvvdp",
    "flip",
    "butteraugli",
    "butteraugli-3norm",
]


def test_every_metric_name_of_the_issue_is_registered_once():
    assert sorted(metric_names()) == sorted(ISSUE_NAMES)


def test_each_metric_describes_direction_range_input_and_size():
    for name, metric in build_metrics().items():
        assert isinstance(metric, Metric) and metric.name == name
        assert isinstance(metric.higher_is_better, bool)
        low, high = metric.value_range
        assert low < high
        assert metric.description and metric.colour in ("RGB", "luma", "XYB")
        assert metric.min_size >= 1
        availability = metric.availability()
        assert availability.available or availability.reason


def test_default_context_is_weights_folder_on_cpu():
    assert MetricContext() == MetricContext(weights_dir=Path("weights"), device="cpu")
    assert create_metric("lpips").context == MetricContext()


def test_create_metric_passes_weights_folder_and_device_to_a_new_instance(tmp_path):
    lpips = create_metric("lpips", MetricContext(weights_dir=tmp_path, device="cpu"))
    assert lpips.context.weights_dir == tmp_path
    assert str(tmp_path.resolve()) in lpips.availability().reason
    assert create_metric("lpips", MetricContext(weights_dir=tmp_path)) is not lpips  # nothing shared
    assert create_metric("lpips").context.weights_dir == Path("weights")  # nothing remembered


def test_build_metrics_keeps_the_order_asked_for_and_one_context():
    context = MetricContext(weights_dir=Path("elsewhere"))
    built = build_metrics(context, ["ms-ssim", "psnr"])
    assert list(built) == ["ms-ssim", "psnr"]
    assert all(metric.context is context for metric in built.values())


def test_unknown_names_raise_key_error():
    for make in (create_metric, metric_class, lambda name: build_metrics(names=[name])):
        with pytest.raises(KeyError):
            make("no-such-metric")
    assert metric_class("gmsd").higher_is_better is False


def test_every_metric_names_its_unit_range_and_the_reference_its_values_are_checked_against():
    for name in metric_names():
        cls = metric_class(name)
        assert cls.unit and cls.reference, name
        assert len(cls.value_range) == 2
    assert metric_class("psnr").unit == "dB" and metric_class("cvvdp").unit == "JOD"
    assert "vifvec" in metric_class("vif").reference
    for name in ("iw-ssim", "ssimulacra2"):
        assert "not validated" in metric_class(name).reference
