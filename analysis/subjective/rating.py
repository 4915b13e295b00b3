"""DSIS / ACR ratings -> MOS with 95% t-intervals and ITU-R BT.500 observer screening.

- MOS of a (scene, condition): the mean of its ratings; 95% interval MOS +/- t(0.975, N-1) s / sqrt(N)
  with ``s`` the sample standard deviation (ITU-R BT.500-14, Annex 2 section A2-2.2.1; Student t from
  ``scipy.stats.t``). With one rating there is no interval (``ci_low = ci_high = MOS``, warned).
- Observer screening (ITU-R BT.500-14, Annex 1 section A1-2.3.1): per stimulus, the kurtosis
  coefficient beta2 = m4 / m2^2 decides whether the ratings are normal (2 <= beta2 <= 4: band of
  2 s) or not (band of sqrt(20) s). For each observer, P counts ratings above mean + band and Q
  counts ratings below mean - band. The observer is rejected when (P + Q) / J > 0.05 and
  |P - Q| / (P + Q) < 0.3, with J the number of their ratings. Rejected observers are listed with
  ``outlier=True`` and left out of the MOS when ``exclude_outliers``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
from scipy import stats

from analysis.subjective.types import ConditionScore, ObserverReport, Rating, Scale

SCORE_RANGE = (1.0, 5.0)
MIN_RATERS_FOR_SCREENING = 3


def mos_interval(scores: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """(MOS, low, high): mean +/- t((1+confidence)/2, N-1) * s / sqrt(N) (ITU-R BT.500 A2-2.2.1)."""
    scores = np.asarray(scores, dtype=float)
    mos = float(scores.mean())
    if scores.size < 2:
        return mos, mos, mos
    half = float(stats.t.ppf(0.5 + confidence / 2, scores.size - 1) * scores.std(ddof=1) / math.sqrt(scores.size))
    return mos, mos - half, mos + half


def bt500_screening(ratings: list[Rating]) -> dict[str, str]:
    """Observers rejected by the ITU-R BT.500 beta2 / P / Q test -> reason (see module docstring)."""
    by_stimulus: dict[tuple[str, str], list[Rating]] = {}
    for r in ratings:
        by_stimulus.setdefault((r.scene, r.condition), []).append(r)
    p: dict[str, int] = {}
    q: dict[str, int] = {}
    j: dict[str, int] = {}
    for rows in by_stimulus.values():
        values = np.array([r.score for r in rows], dtype=float)
        for r in rows:
            j[r.observer] = j.get(r.observer, 0) + 1
        if values.size < 2:
            continue
        mean = values.mean()
        std = values.std(ddof=1)
        m2 = np.mean((values - mean) ** 2)
        beta2 = np.mean((values - mean) ** 4) / (m2 * m2) if m2 > 0 else 3.0
        band = (2.0 if 2.0 <= beta2 <= 4.0 else math.sqrt(20.0)) * std
        for r, v in zip(rows, values):
            if std > 0 and v >= mean + band:
                p[r.observer] = p.get(r.observer, 0) + 1
            elif std > 0 and v <= mean - band:
                q[r.observer] = q.get(r.observer, 0) + 1
    rejected: dict[str, str] = {}
    for observer, total in j.items():
        pp, qq = p.get(observer, 0), q.get(observer, 0)
        if pp + qq and (pp + qq) / total > 0.05 and abs(pp - qq) / (pp + qq) < 0.3:
            rejected[observer] = (
                f"ITU-R BT.500 screening: {pp + qq} of {total} ratings outside the per-stimulus band "
                f"(P={pp}, Q={qq}; (P+Q)/J={(pp + qq) / total:.2f} > 0.05, "
                f"|P-Q|/(P+Q)={abs(pp - qq) / (pp + qq):.2f} < 0.3)"
            )
    return rejected


def scale_ratings(
    ratings: Iterable[Rating], *, exclude_outliers: bool = True, flagged: Mapping[str, str] | None = None
) -> Scale:
    """MOS per (scene, condition) with 95% t-intervals and ITU-R BT.500 screening; higher is better.

    ``flagged`` (observer -> reason, e.g. from ``trap_failures``) are reported as outliers too and
    left out when ``exclude_outliers``. ``n`` = ratings the MOS averages.
    """
    ratings = list(ratings)
    for r in ratings:
        if not isinstance(r, Rating):
            raise TypeError(f"expected Rating, got {type(r).__name__}")
        if not (math.isfinite(r.score) and SCORE_RANGE[0] <= r.score <= SCORE_RANGE[1]):
            raise ValueError(f"rating {r.score!r} outside {SCORE_RANGE[0]:g}..{SCORE_RANGE[1]:g}")
    if not ratings:
        return Scale("MOS", [], [], ["no ratings yet"])
    warnings: list[str] = []
    observers = sorted({r.observer for r in ratings})
    if len(observers) >= MIN_RATERS_FOR_SCREENING:
        reasons = bt500_screening(ratings)
    else:
        reasons = {}
        warnings.append(
            f"BT.500 screening needs at least {MIN_RATERS_FOR_SCREENING} observers ({len(observers)} so far)"
        )
    for o, why in (flagged or {}).items():
        if o in observers:
            reasons[o] = why if o not in reasons else f"{why}; {reasons[o]}"
    excluded = {o for o in reasons if exclude_outliers}
    if excluded and excluded.issuperset(observers):
        warnings.append("every observer is flagged; the MOS uses all of them")
        excluded = set()
    by_stimulus: dict[tuple[str, str], list[float]] = {}
    for r in ratings:
        if r.observer not in excluded:
            by_stimulus.setdefault((r.scene, r.condition), []).append(float(r.score))
    conditions: list[ConditionScore] = []
    for (scene, condition), values in sorted(by_stimulus.items()):
        mos, low, high = mos_interval(np.array(values))
        if len(values) < 2:
            warnings.append(f"scene {scene}, condition {condition}: one rating, no interval")
        conditions.append(ConditionScore(condition, scene, mos, low, high, len(values)))
    trials = {o: 0 for o in observers}
    for r in ratings:
        trials[r.observer] += 1
    reports = [ObserverReport(o, trials[o], o in reasons, reasons.get(o)) for o in observers]
    return Scale("MOS", conditions, reports, warnings)
