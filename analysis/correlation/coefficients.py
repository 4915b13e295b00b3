"""SROCC, KROCC, PLCC and RMSE of one metric against human scores.

Definitions as in VQEG's FR-TV Phase II report and ITU-T P.1401: SROCC (Spearman) and KROCC
(Kendall tau-b, scipy's default) on the raw oriented values (no fit, as pyiqa computes them);
PLCC (Pearson) and RMSE between the human scores and the metric mapped through a fitted
monotonically increasing logistic (``analysis.correlation.logistic``). When the fit fails the
unfitted PLCC is reported (and ``fit.failed`` says so) and RMSE is None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.correlation.logistic import Fit, fit_logistic

MIN_N = 4  # fewer paired values than this give no coefficient (Williams' test also needs n > 3)


def _defined(x: np.ndarray, y: np.ndarray) -> bool:
    return x.size >= MIN_N and np.ptp(x) > 0 and np.ptp(y) > 0


def srocc(x, y) -> float | None:
    """Spearman rank-order correlation (scipy.stats.spearmanr); None when undefined."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(stats.spearmanr(x, y).statistic) if _defined(x, y) else None


def krocc(x, y) -> float | None:
    """Kendall rank-order correlation, tau-b (scipy.stats.kendalltau); None when undefined."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(stats.kendalltau(x, y).statistic) if _defined(x, y) else None


def plcc(x, y) -> float | None:
    """Pearson linear correlation (scipy.stats.pearsonr); None when undefined."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(stats.pearsonr(x, y).statistic) if _defined(x, y) else None


def rmse(predicted, y) -> float:
    """Root mean squared error between predicted and human scores, in the human unit."""
    predicted, y = np.asarray(predicted, float), np.asarray(y, float)
    return float(np.sqrt(np.mean((predicted - y) ** 2)))


@dataclass(frozen=True)
class Agreement:
    """One metric's agreement with people on one set of conditions (all coefficients: positive = agrees)."""

    n: int
    srocc: float | None
    krocc: float | None
    plcc: float | None
    rmse: float | None
    fit: Fit | None
    reason: str | None = None


def agreement(x, y, *, fit: str = "logistic4") -> Agreement:
    """SROCC, KROCC, PLCC and RMSE of oriented metric values ``x`` against human scores ``y``.

    PLCC and RMSE are computed between ``y`` and ``fit_logistic(x, y, form=fit).predict(x)``; when the
    fit fails, PLCC is the unfitted Pearson correlation of ``x`` and ``y`` and RMSE is None.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = int(x.size)
    if n < MIN_N:
        return Agreement(n, None, None, None, None, None, f"{n} conditions (need at least {MIN_N})")
    if np.ptp(x) == 0:
        return Agreement(n, None, None, None, None, None, "the metric gives every condition the same value")
    if np.ptp(y) == 0:
        return Agreement(n, None, None, None, None, None, "people gave every condition the same score")
    mapping = fit_logistic(x, y, form=fit)
    if mapping.failed:
        return Agreement(n, srocc(x, y), krocc(x, y), plcc(x, y), None, mapping)
    predicted = mapping.predict(x)
    return Agreement(n, srocc(x, y), krocc(x, y), plcc(predicted, y), rmse(predicted, y), mapping)
