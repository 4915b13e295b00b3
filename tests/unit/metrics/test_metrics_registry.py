"""The registry: every metric of the issue is registered once, describes itself, and takes its
weights folder and device from the context the service configures."""
from __future__ import annotations

from pathlib import Path

from metrics.base import Metric, MetricContext
from metrics.registry import all_metrics, configure, current_context, get_metric, metric_names

ISSUE_NAMES = ["psnr", "psnr-y", "ssim", "ms-ssim", "ms-ssim-y", "vif", "lpips", "lpips-vgg", "dists",
               "vmaf", "vmaf-neg", "fsim", "gmsd", "haarpsi", "ssimulacra2"]


def test_every_metric_name_of_the_issue_is_registered_once():
    assert sorted(metric_names()) == sorted(ISSUE_NAMES)


def test_each_metric_describes_direction_range_input_and_size():
    for metric in all_metrics():
        assert isinstance(metric, Metric)
        assert isinstance(metric.higher_is_better, bool)
        low, high = metric.value_range
        assert low < high
        assert metric.description and metric.colour in ("RGB", "luma", "XYB")
        assert metric.min_size >= 1
        availability = metric.availability()
        assert availability.available or availability.reason


def test_default_context_is_weights_folder_on_cpu():
    assert MetricContext() == MetricContext(weights_dir=Path("weights"), device="cpu")


def test_configure_passes_weights_folder_and_device_to_new_instances(tmp_path):
    previous = current_context()
    try:
        configure(MetricContext(weights_dir=tmp_path, device="cpu"))
        lpips = get_metric("lpips")
        assert lpips.context.weights_dir == tmp_path
        assert str(tmp_path.resolve()) in lpips.availability().reason
        assert get_metric("lpips") is lpips  # one shared instance per context
    finally:
        configure(previous)
    assert get_metric("lpips") is not lpips
