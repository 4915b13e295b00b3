"""The one place metrics are registered: adding a metric is adding its class here.

Metrics that need weights or a device get them from a ``MetricContext`` passed in explicitly:
the service calls ``configure(MetricContext(weights_dir=..., device=...))`` once at start; the
default context is ``weights_dir=Path("weights")``, ``device="cpu"``.
"""
from __future__ import annotations

from metrics.base import Metric, MetricContext
from metrics.dists import DISTS
from metrics.fsim import FSIM
from metrics.gmsd import GMSD
from metrics.haarpsi import HaarPSI
from metrics.lpips import LPIPS, LPIPSVGG
from metrics.psnr import PSNR, PSNRY
from metrics.ssim import MSSSIM, MSSSIMY, SSIM
from metrics.ssimulacra2 import SSIMULACRA2
from metrics.vif import VIFp
from metrics.vmaf import VMAF, VMAFNEG

__all__ = ["MetricContext", "all_metrics", "configure", "current_context", "get_metric", "metric_names"]

METRIC_CLASSES: list[type[Metric]] = [
    PSNR, PSNRY, SSIM, MSSSIM, MSSSIMY, VIFp, FSIM, GMSD, HaarPSI,
    LPIPS, LPIPSVGG, DISTS, VMAF, VMAFNEG, SSIMULACRA2,
]

_METRICS: dict[str, type[Metric]] = {cls.name: cls for cls in METRIC_CLASSES}
_instances: dict[str, Metric] = {}
_context = MetricContext()


def configure(context: MetricContext) -> None:
    """Set the weights folder and device for every metric; instances are rebuilt on next use."""
    global _context
    _context = context
    _instances.clear()


def current_context() -> MetricContext:
    return _context


def metric_names() -> list[str]:
    """Registered metric names, in registration order."""
    return list(_METRICS)


def get_metric(name: str) -> Metric:
    """The (shared) instance of metric ``name``; raises ``KeyError`` for unknown names."""
    if name not in _METRICS:
        raise KeyError(name)
    if name not in _instances:
        _instances[name] = _METRICS[name](_context)
    return _instances[name]


def all_metrics() -> list[Metric]:
    return [get_metric(name) for name in _METRICS]
