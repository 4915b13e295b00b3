"""One device rule for codecs and metrics: cpu as given, auto picks CUDA when visible, cuda without
CUDA is a clear error, anything else names the choices."""

from __future__ import annotations

import pytest
import torch

from metrics.base import MetricContext
from metrics.lpips import LPIPS
from models.devices import resolve_device


def test_cpu_and_auto_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == "cpu"
    assert resolve_device(" AUTO ") == "cpu"


def test_auto_picks_cuda_when_visible(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda:1") == "cuda:1"


@pytest.mark.parametrize("requested", ["cuda", "cuda:0"])
def test_cuda_without_cuda_is_a_clear_error(monkeypatch, requested):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match=f"DEVICE={requested} but no CUDA device is visible"):
        resolve_device(requested)


@pytest.mark.parametrize("requested", ["gpu", "cuda:x", ""])
def test_unknown_device_names_the_choices(requested):
    with pytest.raises(ValueError, match="choose one of cpu, cuda, cuda:N, auto"):
        resolve_device(requested)


def test_metrics_follow_the_same_rule(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert LPIPS(MetricContext(device="auto")).device == "cpu"
    with pytest.raises(RuntimeError, match="no CUDA device"):
        _ = LPIPS(MetricContext(device="cuda")).device
