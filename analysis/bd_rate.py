"""Bjontegaard delta rate and delta quality between two RD curves, for any metric.

BD-rate (G. Bjontegaard, "Calculation of average PSNR differences between RD-curves", VCEG-M33,
2001; piecewise cubic Hermite (PCHIP) interpolation, computed by the ``bjontegaard`` package): the
average bit-rate difference, in percent, of the test codec against the anchor at equal quality,
integrated over the quality range both curves cover. Negative means the test codec needs fewer bits.
BD-quality (BD-PSNR when the metric is PSNR): the average metric difference at equal rate over the
overlapping log-rate range, in the metric's units.

Both need at least ``MIN_POINTS`` points of each curve inside the overlapping range and strictly
monotonic curves (quality rising with rate, or falling for lower-is-better metrics). When that does
not hold the result carries ``value=None`` and a ``reason``; a result is never NaN.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MIN_POINTS = 4
METHOD = "pchip"


@dataclass(frozen=True)
class BDResult:
    """One Bjontegaard delta: ``value`` (None when it cannot be computed, then ``reason`` says why)."""

    value: float | None
    unit: str
    reason: str | None = None
    overlap: tuple[float, float] | None = None  # the integration interval (metric for BD-rate, bpp for BD-quality)
    points: tuple[int, int] = (0, 0)  # (anchor, test) points inside the overlap

    @property
    def available(self) -> bool:
        return self.value is not None


def _na(unit: str, reason: str, overlap=None, points=(0, 0)) -> BDResult:
    return BDResult(None, unit, reason, overlap, points)


def _clean(name: str, rate: Sequence[float], quality: Sequence[float], higher_is_better: bool):
    """Points sorted by rate, or a reason why the curve cannot be used."""
    if len(rate) != len(quality):
        return None, f"{name} has {len(rate)} rates but {len(quality)} quality values"
    pairs = [(float(r), float(q)) for r, q in zip(rate, quality) if r is not None and q is not None]
    if any(not (math.isfinite(r) and math.isfinite(q)) for r, q in pairs):
        return None, f"{name} has non-finite values"
    if any(r <= 0 for r, _ in pairs):
        return None, f"{name} has a non-positive rate (log-rate undefined)"
    pairs.sort()
    if len(pairs) < MIN_POINTS:
        return None, f"{name} has {len(pairs)} points (need at least {MIN_POINTS})"
    rates = np.array([r for r, _ in pairs])
    values = np.array([q for _, q in pairs])
    if np.any(np.diff(rates) <= 0):
        return None, f"{name} has two points at the same rate"
    steps = np.diff(values) if higher_is_better else -np.diff(values)
    if np.any(steps <= 0):
        direction = "rise" if higher_is_better else "fall"
        return None, f"{name} is not monotonic: quality does not {direction} with rate at every point"
    return (rates, values), None


def _count_inside(x: np.ndarray, lo: float, hi: float) -> int:
    tol = 1e-9 * max(1.0, abs(lo), abs(hi))
    return int(np.sum((x >= lo - tol) & (x <= hi + tol)))


Curve = tuple[Sequence[float], Sequence[float]]  # (rates, quality values)


def _delta(kind: str, anchor: Curve, test: Curve, higher_is_better: bool, metric: str) -> BDResult:
    unit = "%" if kind == "rate" else metric
    a, reason = _clean("anchor", *anchor, higher_is_better)
    if reason:
        return _na(unit, reason)
    t, reason = _clean("test", *test, higher_is_better)
    if reason:
        return _na(unit, reason)
    (ra, qa), (rt, qt) = a, t
    # The axis integrated over: quality for BD-rate, log10 rate for BD-quality.
    xa, xt = (qa, qt) if kind == "rate" else (np.log10(ra), np.log10(rt))
    lo, hi = max(xa.min(), xt.min()), min(xa.max(), xt.max())
    shown = (lo, hi) if kind == "rate" else (10**lo, 10**hi)
    axis = metric if kind == "rate" else "bpp"
    if hi <= lo:
        return _na(unit, f"the curves do not overlap in {axis}")
    points = (_count_inside(xa, lo, hi), _count_inside(xt, lo, hi))
    if min(points) < MIN_POINTS:
        return _na(
            unit,
            f"only {points[0]} anchor and {points[1]} test points lie in the overlapping {axis} range "
            f"[{shown[0]:.4g}, {shown[1]:.4g}] (need at least {MIN_POINTS} of each)",
            shown,
            points,
        )
    import bjontegaard  # imported here: it pulls in matplotlib

    if kind == "rate":  # interpolated along quality: hand the points over in rising quality
        order_a, order_t = np.argsort(qa), np.argsort(qt)
        ra, qa, rt, qt = ra[order_a], qa[order_a], rt[order_t], qt[order_t]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn = bjontegaard.bd_rate if kind == "rate" else bjontegaard.bd_psnr
        try:
            value = float(fn(ra, qa, rt, qt, METHOD, require_matching_points=False, min_overlap=0))
        except (ValueError, AssertionError) as exc:
            return _na(unit, f"interpolation failed: {exc}", shown, points)
    if not math.isfinite(value):
        return _na(unit, "the delta is not finite", shown, points)
    return BDResult(value, unit, None, shown, points)


def bd_rate(
    anchor_bpp: Sequence[float],
    anchor_quality: Sequence[float],
    test_bpp: Sequence[float],
    test_quality: Sequence[float],
    higher_is_better: bool = True,
    metric: str = "quality",
) -> BDResult:
    """BD-rate of test vs anchor in percent (negative: the test codec saves bits at equal quality)."""
    return _delta("rate", (anchor_bpp, anchor_quality), (test_bpp, test_quality), higher_is_better, metric)


def bd_quality(
    anchor_bpp: Sequence[float],
    anchor_quality: Sequence[float],
    test_bpp: Sequence[float],
    test_quality: Sequence[float],
    higher_is_better: bool = True,
    metric: str = "quality",
) -> BDResult:
    """BD-quality of test vs anchor in the metric's units (BD-PSNR in dB for PSNR)."""
    return _delta("quality", (anchor_bpp, anchor_quality), (test_bpp, test_quality), higher_is_better, metric)


@dataclass(frozen=True)
class BDComparison:
    """BD-rate and BD-quality of one codec against the anchor for one metric."""

    codec: str
    anchor: str
    metric: str
    bd_rate: BDResult
    bd_quality: BDResult


def compare_to_anchor(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    anchor: str,
    metric: str,
    higher_is_better: bool = True,
) -> list[BDComparison]:
    """BD-rate and BD-quality of every codec in ``curves`` (name -> (bpp, metric values)) vs ``anchor``.

    The anchor itself is left out. If ``anchor`` has no curve, every comparison says so.
    """
    rows = []
    for codec, (bpp, values) in curves.items():
        if codec == anchor:
            continue
        if anchor not in curves:
            reason = f"anchor {anchor!r} has no {metric} results"
            rows.append(BDComparison(codec, anchor, metric, _na("%", reason), _na(metric, reason)))
            continue
        a_bpp, a_values = curves[anchor]
        rows.append(
            BDComparison(
                codec,
                anchor,
                metric,
                bd_rate(a_bpp, a_values, bpp, values, higher_is_better, metric),
                bd_quality(a_bpp, a_values, bpp, values, higher_is_better, metric),
            )
        )
    return rows
