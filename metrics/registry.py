"""The one place metrics are registered: adding a metric is adding its class here."""
from __future__ import annotations

from metrics.base import Metric
from metrics.ms_ssim import MSSSIM
from metrics.psnr import PSNR

_METRICS: dict[str, type[Metric]] = {cls.name: cls for cls in (PSNR, MSSSIM)}
_instances: dict[str, Metric] = {}


def metric_names() -> list[str]:
    """Registered metric names, in registration order."""
    return list(_METRICS)


def get_metric(name: str) -> Metric:
    """The (shared) instance of metric ``name``; raises ``KeyError`` for unknown names."""
    if name not in _METRICS:
        raise KeyError(name)
    if name not in _instances:
        _instances[name] = _METRICS[name]()
    return _instances[name]


def all_metrics() -> list[Metric]:
    return [get_metric(name) for name in _METRICS]
