"""Monotonically increasing logistic mappings from metric values to human scores.

- ``logistic4`` (VQEG FR-TV Phase II; pyiqa ``fit_curve``):
  y = (b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2, with b1 >= b2 so the curve never decreases.
- ``logistic5`` (Sheikh, Sabir, Bovik, "A statistical evaluation of recent full reference image
  quality assessment algorithms", IEEE TIP 2006):
  y = b1 * (1/2 - 1/(1 + exp(b2 * (x - b3)))) + b4 * x + b5, with b1, b2, b4 >= 0 (increasing).

Both are fitted with scipy ``curve_fit`` (bounded trust-region) on standardised x from pyiqa's
starting values (max y, min y, mean x, std x / 4 for the 4-parameter form); the reported
parameters are in the metric's own units. The slope constraint means a metric that disagrees with
people cannot be rescued by a decreasing fit: the best increasing curve is then flat, and the fit
is reported as failed (``failed=True``), so the caller reports the unfitted PLCC.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

FIT_FORMS = ("logistic4", "logistic5")
MAX_EVALUATIONS = 2_000


@dataclass(frozen=True)
class Fit:
    """A fitted mapping: ``form``, its parameters (b1.. in the metric's units), ``failed`` and ``reason``."""

    form: str
    params: tuple[float, ...] | None
    failed: bool
    reason: str | None = None

    def predict(self, x) -> np.ndarray:
        """Predicted human scores for metric values ``x`` (only for a fit that did not fail)."""
        if self.failed or self.params is None:
            raise ValueError(f"the {self.form} fit failed ({self.reason}); nothing to predict with")
        return _FORMULAS[self.form](np.asarray(x, dtype=np.float64), *self.params)

    def to_dict(self) -> dict:
        """The REST shape ``{"form", "params", "failed"}`` (params null when the fit failed)."""
        return {"form": self.form, "params": list(self.params) if self.params else None, "failed": self.failed}


def logistic4(x, b1, b2, b3, b4):
    """VQEG 4-parameter logistic (b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2."""
    z = np.clip(-(x - b3) / np.abs(b4), -500, 500)
    return (b1 - b2) / (1.0 + np.exp(z)) + b2


def logistic5(x, b1, b2, b3, b4, b5):
    """Sheikh et al. 2006 5-parameter logistic b1 (1/2 - 1/(1 + exp(b2 (x - b3)))) + b4 x + b5."""
    z = np.clip(b2 * (x - b3), -500, 500)
    return b1 * (0.5 - 1.0 / (1.0 + np.exp(z))) + b4 * x + b5


_FORMULAS: dict[str, Callable[..., np.ndarray]] = {"logistic4": logistic4, "logistic5": logistic5}


def _fit_standardised(form: str, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Parameters on standardised z (mean 0, std 1), slope-constrained by bounds.

    The midpoint b3 is kept within two standard deviations beyond the data and the scale b4 within
    [0.001, 50] standard deviations: outside those the curve is a step or a straight line over the
    data, and the optimiser would wander without improving the fit.
    """
    y_span = float(np.ptp(y))
    low, high = float(np.min(z)) - 2.0, float(np.max(z)) + 2.0
    model: Callable[..., Any]
    if form == "logistic4":
        # Reparametrised as b2 + s / (1 + exp(-(z - b3) / b4)) with s >= 0, b4 > 0.
        def model(zz, b2, s, b3, b4):
            return logistic4(zz, b2 + s, b2, b3, b4)

        start = [float(np.min(y)), y_span, 0.0, 0.25]  # pyiqa: max y, min y, mean x, std x / 4
        bounds = ([-np.inf, 0.0, low, 1e-3], [np.inf, np.inf, high, 50.0])
    else:
        model = logistic5
        start = [y_span, 1.0, 0.0, 1e-6, float(np.mean(y))]
        bounds = ([0.0, 0.0, low, 0.0, -np.inf], [np.inf, 1e3, high, np.inf, np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        params, _ = curve_fit(model, z, y, p0=start, bounds=bounds, maxfev=MAX_EVALUATIONS)
    if form == "logistic4":
        b2, s, b3, b4 = params
        return np.array([b2 + s, b2, b3, b4])
    return params


def fit_logistic(x, y, form: str = "logistic4") -> Fit:
    """Fit a monotonically increasing logistic ``form`` ("logistic4" or "logistic5") of ``x`` to ``y``.

    ``x`` must already be oriented (higher = better, ``analysis.correlation.orient``). Returns a
    ``Fit`` with ``failed=True`` and a reason when scipy does not converge, the data are degenerate,
    or the best increasing curve is flat (the metric does not increase with human scores at all).
    """
    if form not in FIT_FORMS:
        raise ValueError(f"unknown fit {form!r}; choose one of {', '.join(FIT_FORMS)}")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n_params = 4 if form == "logistic4" else 5
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("x and y must be 1-D arrays of equal length")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return Fit(form, None, True, "non-finite values")
    if x.size <= n_params:
        return Fit(form, None, True, f"{x.size} points for {n_params} parameters")
    mean, std = float(np.mean(x)), float(np.std(x))
    if std == 0 or np.ptp(y) == 0:
        return Fit(form, None, True, "constant metric values or human scores")
    z = (x - mean) / std
    try:
        p = _fit_standardised(form, z, y)
    except (RuntimeError, ValueError) as exc:
        return Fit(form, None, True, f"curve_fit did not converge: {exc}")
    if not np.all(np.isfinite(p)):
        return Fit(form, None, True, "non-finite parameters")
    params: tuple[float, ...]
    if form == "logistic4":  # z = (x - mean) / std  ->  b3 and b4 in x units
        params = (p[0], p[1], mean + std * p[2], std * abs(p[3]))
    else:
        b1, b2, b3, b4, b5 = p
        params = (b1, b2 / std, mean + std * b3, b4 / std, b5 - b4 * mean / std)
    fitted = Fit(form, tuple(float(v) for v in params), False)
    predicted = fitted.predict(x)
    if not np.all(np.isfinite(predicted)):
        return Fit(form, None, True, "non-finite predictions")
    if np.std(predicted) <= 1e-6 * np.std(y):
        return Fit(form, fitted.params, True, "the best increasing curve is flat (the metric disagrees with people)")
    return fitted
