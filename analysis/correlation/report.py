"""The correlation report: every metric's agreement with people, intervals, breakdowns, comparisons.

``correlate(observations, metrics)`` orients each metric (higher = better), computes SROCC, KROCC,
PLCC and RMSE after a monotonically increasing logistic (``analysis.correlation.coefficients``),
95% bootstrap intervals over source images (``analysis.correlation.bootstrap``), and for every pair
of metrics the paired-bootstrap p-value of their SROCC difference and Williams' test
(``analysis.correlation.williams``) on their Spearman correlations with people and with each other
(the rank form of the test, as used when metrics are compared by SROCC), overall and within each group. ``to_dict()`` is the REST
shape of ``GET /api/v1/studies/{id}/correlation`` without ``source``.

Interval notes: SROCC intervals recompute SROCC on each resample; PLCC intervals hold the logistic
fitted on all conditions fixed and recompute PLCC of its predictions on each resample (refitting a
thousand times per metric and group would dominate the run time; the fit's own uncertainty is
therefore not in the PLCC interval).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from scipy import stats

from analysis.correlation import bootstrap
from analysis.correlation.coefficients import MIN_N, agreement
from analysis.correlation.logistic import FIT_FORMS
from analysis.correlation.observations import BANDS, GROUPS, Observation, group_values
from analysis.correlation.orientation import orient
from analysis.correlation.williams import williams_test


@dataclass(frozen=True)
class MetricRow:
    """One metric's agreement on one set of conditions (REST row; ``reason`` set when a value is None)."""

    metric: str
    n: int
    flipped: bool
    srocc: float | None
    srocc_ci: list[float] | None
    krocc: float | None
    plcc: float | None
    plcc_ci: list[float] | None
    rmse: float | None
    fit: dict
    resampled: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict:
        return {
            "metric": self.metric,
            "n": self.n,
            "flipped": self.flipped,
            "srocc": self.srocc,
            "srocc_ci": self.srocc_ci,
            "krocc": self.krocc,
            "plcc": self.plcc,
            "plcc_ci": self.plcc_ci,
            "rmse": self.rmse,
            "fit": self.fit,
            "resampled": self.resampled,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Comparison:
    """Metric ``a`` (the higher SROCC) against ``b`` on the conditions both scored."""

    a: str
    b: str
    n: int
    delta_srocc: float
    p_bootstrap: float | None
    p_williams: float | None

    def to_dict(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "n": self.n,
            "delta_srocc": self.delta_srocc,
            "p_bootstrap": self.p_bootstrap,
            "p_williams": self.p_williams,
        }


@dataclass(frozen=True)
class CorrelationReport:
    """The whole report; ``to_dict()`` gives ``{"unit", "n", "group", "fit", "metrics", "groups", "comparisons",
    "group_comparisons"}`` (the metric pairs' tests within each group, e.g. on one codec's conditions)."""

    unit: str | None
    n: int
    group: str
    fit: str
    n_bootstrap: int
    metrics: list[MetricRow]
    groups: dict[str, list[MetricRow]] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)
    group_comparisons: dict[str, list[Comparison]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "unit": self.unit,
            "n": self.n,
            "group": self.group,
            "fit": self.fit,
            "n_bootstrap": self.n_bootstrap,
            "metrics": [row.to_dict() for row in self.metrics],
            "groups": {key: [row.to_dict() for row in rows] for key, rows in self.groups.items()},
            "comparisons": [c.to_dict() for c in self.comparisons],
            "group_comparisons": {key: [c.to_dict() for c in rows] for key, rows in self.group_comparisons.items()},
        }


def _spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    if x.size < MIN_N or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(stats.rankdata(x), stats.rankdata(y))[0, 1])


@dataclass
class _MetricData:
    name: str
    flipped: bool
    valid: np.ndarray  # bool mask over the subset
    x: np.ndarray  # oriented values over the subset (NaN where missing)
    boot_srocc: np.ndarray | None = None


def _metric_data(subset: Sequence[Observation], name: str, higher_is_better: bool) -> _MetricData:
    raw = np.array([np.nan if (value := o.metric_values.get(name)) is None else float(value) for o in subset])
    x, flipped = orient(raw, higher_is_better)
    return _MetricData(name, flipped, np.isfinite(x), x)


def _rows(
    subset: Sequence[Observation],
    metrics: Mapping[str, bool],
    fit: str,
    n_bootstrap: int,
    seed: int,
    confidence: float,
) -> tuple[list[MetricRow], list[_MetricData], np.ndarray, bootstrap.ImageBootstrap]:
    y = np.array([o.human for o in subset], dtype=np.float64)
    resampling = bootstrap.ImageBootstrap([o.image for o in subset], n_bootstrap, seed)
    rows, data = [], []
    for name, higher_is_better in metrics.items():
        d = _metric_data(subset, name, higher_is_better)
        data.append(d)
        x, yy = d.x[d.valid], y[d.valid]
        result = agreement(x, yy, fit=fit)
        fit_dict = result.fit.to_dict() if result.fit is not None else {"form": fit, "params": None, "failed": True}
        srocc_ci = plcc_ci = None
        if result.srocc is not None and n_bootstrap:
            d.boot_srocc = resampling.spearman(d.x, y, d.valid)
            srocc_ci = bootstrap.percentile_interval(d.boot_srocc, confidence)
            mapped = np.full_like(d.x, np.nan)
            mapped[d.valid] = result.fit.predict(x) if (result.fit and not result.fit.failed) else x
            plcc_ci = bootstrap.percentile_interval(resampling.pearson(mapped, y, d.valid), confidence)
        rows.append(
            MetricRow(
                metric=name,
                n=result.n,
                flipped=d.flipped,
                srocc=result.srocc,
                srocc_ci=srocc_ci,
                krocc=result.krocc,
                plcc=result.plcc,
                plcc_ci=plcc_ci,
                rmse=result.rmse,
                fit=fit_dict,
                resampled=resampling.unit if n_bootstrap else None,
                reason=result.reason,
            )
        )
    return rows, data, y, resampling


def _ranked(rows: list[MetricRow]) -> list[MetricRow]:
    return sorted(rows, key=lambda r: (r.srocc is None, -(r.srocc or 0.0), r.metric))


def _comparisons(
    rows: list[MetricRow], data: list[_MetricData], y: np.ndarray, resampling: bootstrap.ImageBootstrap
) -> list[Comparison]:
    by_name = {d.name: d for d in data}
    ranked = [r for r in _ranked(rows) if r.srocc is not None]
    out = []
    for row_a, row_b in combinations(ranked, 2):
        a, b = by_name[row_a.metric], by_name[row_b.metric]
        joint = a.valid & b.valid
        n = int(joint.sum())
        r12, r13 = _spearman(a.x[joint], y[joint]), _spearman(b.x[joint], y[joint])
        if r12 is None or r13 is None:
            continue
        r23 = _spearman(a.x[joint], b.x[joint])
        p_williams = williams_test(r12, r13, r23 if r23 is not None else 0.0, n)[1]
        p_bootstrap = None
        if resampling.n_resamples:
            if (
                np.array_equal(joint, a.valid)
                and np.array_equal(joint, b.valid)
                and a.boot_srocc is not None
                and b.boot_srocc is not None
            ):
                deltas = a.boot_srocc - b.boot_srocc
            else:
                deltas = resampling.spearman(a.x, y, joint) - resampling.spearman(b.x, y, joint)
            p_bootstrap = bootstrap.two_sided_p(deltas)
        out.append(Comparison(row_a.metric, row_b.metric, n, float(r12 - r13), p_bootstrap, p_williams))
    return out


def correlate(
    observations: Sequence[Observation],
    metrics: Mapping[str, bool],
    *,
    fit: str = "logistic4",
    n_bootstrap: int = bootstrap.DEFAULT_RESAMPLES,
    seed: int = 0,
    group: str = "overall",
    unit: str | None = None,
    confidence: float = bootstrap.CONFIDENCE,
) -> CorrelationReport:
    """Agreement of each metric in ``metrics`` (name -> higher_is_better) with the human scores.

    Overall rows are ranked by SROCC (best first) and always computed; for ``group`` other than
    "overall" (see ``GROUPS``) the same rows are computed per group value. ``comparisons`` cover every
    pair of metrics with a defined SROCC on the whole set. A metric's value None on an observation
    leaves that observation out of that metric's row only. Raises ``ValueError`` for an unknown
    ``fit`` or ``group`` or a negative ``n_bootstrap``.
    """
    if fit not in FIT_FORMS:
        raise ValueError(f"unknown fit {fit!r}; choose one of {', '.join(FIT_FORMS)}")
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}; choose one of {', '.join(GROUPS)}")
    if n_bootstrap < 0:
        raise ValueError("n_bootstrap must be >= 0")
    observations = [o for o in observations if o.human is not None and np.isfinite(o.human)]
    rows, data, y, resampling = _rows(observations, metrics, fit, n_bootstrap, seed, confidence)
    comparisons = _comparisons(rows, data, y, resampling)
    groups: dict[str, list[MetricRow]] = {}
    group_comparisons: dict[str, list[Comparison]] = {}
    if group != "overall":
        keys = group_values(observations, group)
        order = {band: i for i, band in enumerate(BANDS)}
        for key in sorted({k for k in keys if k is not None}, key=lambda k: (order.get(k, len(order)), str(k))):
            subset = [o for o, k in zip(observations, keys) if k == key]
            sub_rows, sub_data, sub_y, sub_resampling = _rows(subset, metrics, fit, n_bootstrap, seed, confidence)
            groups[str(key)] = _ranked(sub_rows)
            group_comparisons[str(key)] = _comparisons(sub_rows, sub_data, sub_y, sub_resampling)
    return CorrelationReport(
        unit, len(observations), group, fit, n_bootstrap, _ranked(rows), groups, comparisons, group_comparisons
    )
