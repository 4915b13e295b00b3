"""Rate-distortion curves from per-image results.

A result row is a mapping with ``codec``, ``rate_point``, ``bpp`` and ``metrics`` (metric name ->
value, ``None`` where the metric did not apply). Each (codec, rate point) becomes one RD point whose
bpp and metric values are the arithmetic means over images, as ``compressai.utils.eval_model`` averages
(mean PSNR of images, not PSNR of the mean MSE).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RDPoint:
    """One rate point of a codec, averaged over ``n_images`` images."""

    rate_point: float
    bpp: float
    metrics: dict[str, float]
    n_images: int
    metric_counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RDCurve:
    """A codec's RD points, sorted by bpp."""

    codec: str
    points: list[RDPoint]

    def xy(self, metric: str) -> tuple[list[float], list[float]]:
        """(bpp, metric) of the points that have ``metric``."""
        pairs = [(p.bpp, p.metrics[metric]) for p in self.points if metric in p.metrics]
        return [b for b, _ in pairs], [v for _, v in pairs]


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def average_rd_points(rows: Iterable[Mapping]) -> dict[str, RDCurve]:
    """Group rows by (codec, rate point) and average bpp and each metric over images.

    Non-finite or missing metric values are left out of that metric's mean (``metric_counts`` says
    how many images each mean covers); a metric with no value at a point is absent from the point.
    """
    bpp: dict[tuple[str, float], list[float]] = defaultdict(list)
    values: dict[tuple[str, float], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        key = (str(row["codec"]), float(row["rate_point"]))
        if not _finite(row.get("bpp")):
            continue
        bpp[key].append(float(row["bpp"]))
        for name, value in (row.get("metrics") or {}).items():
            if _finite(value):
                values[key][name].append(float(value))
    curves: dict[str, list[RDPoint]] = defaultdict(list)
    for (codec, rate_point), rates in bpp.items():
        metric_values = values.get((codec, rate_point), {})
        curves[codec].append(
            RDPoint(
                rate_point=rate_point,
                bpp=sum(rates) / len(rates),
                metrics={name: sum(v) / len(v) for name, v in metric_values.items()},
                n_images=len(rates),
                metric_counts={name: len(v) for name, v in metric_values.items()},
            )
        )
    return {
        codec: RDCurve(codec, sorted(points, key=lambda p: (p.bpp, p.rate_point)))
        for codec, points in sorted(curves.items())
    }
