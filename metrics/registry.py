"""The one place metrics are registered: adding a metric is adding its class to ``METRIC_CLASSES``.

No module-level state: callers build the instances they need from a ``MetricContext`` (weights
folder and device) and hold them, as codecs are built by ``models.registry.build_codecs`` and as
pyiqa's ``create_metric(name, **opts)`` returns a fresh instance from its registry.
"""

from __future__ import annotations

from types import MappingProxyType

from metrics.base import Metric, MetricContext
from metrics.butteraugli import Butteraugli, Butteraugli3Norm
from metrics.cvvdp import ColorVideoVDP
from metrics.dists import DISTS
from metrics.flip import FLIP
from metrics.fsim import FSIM
from metrics.gmsd import GMSD
from metrics.haarpsi import HaarPSI
from metrics.iw_ssim import IWSSIM
from metrics.lpips import LPIPS, LPIPSVGG
from metrics.psnr import PSNR, PSNRY
from metrics.ssim import MSSSIM, MSSSIMY, SSIM
from metrics.ssimulacra2 import SSIMULACRA2
from metrics.vif import VIF
from metrics.vifp import VIFp
from metrics.vmaf import VMAF, VMAFNEG

__all__ = ["METRIC_CLASSES", "MetricContext", "build_metrics", "create_metric", "metric_class", "metric_names"]

METRIC_CLASSES: tuple[type[Metric], ...] = (
    PSNR,
    PSNRY,
    SSIM,
    MSSSIM,
    MSSSIMY,
    VIF,
    VIFp,
    FSIM,
    GMSD,
    HaarPSI,
    LPIPS,
    LPIPSVGG,
    DISTS,
    VMAF,
    VMAFNEG,
    SSIMULACRA2,
    IWSSIM,
    ColorVideoVDP,
    FLIP,
    Butteraugli,
    Butteraugli3Norm,
)

_BY_NAME = MappingProxyType({cls.name: cls for cls in METRIC_CLASSES})


def metric_names() -> list[str]:
    """Registered metric names, in registration order."""
    return list(_BY_NAME)


def metric_class(name: str) -> type[Metric]:
    """The class registered as ``name`` (its name, direction and range need no instance);
    raises ``KeyError`` for unknown names."""
    return _BY_NAME[name]


def create_metric(name: str, context: MetricContext | None = None) -> Metric:
    """A new instance of metric ``name`` on ``context`` (default: ``MetricContext()``); raises
    ``KeyError`` for unknown names. Cheap: learned metrics load their network on first use."""
    return metric_class(name)(context or MetricContext())


def build_metrics(context: MetricContext | None = None, names: list[str] | None = None) -> dict[str, Metric]:
    """Instances of ``names`` (default: every registered metric, in registration order) on one
    context, keyed by name; raises ``KeyError`` for an unknown name."""
    context = context or MetricContext()
    return {name: create_metric(name, context) for name in (metric_names() if names is None else names)}
