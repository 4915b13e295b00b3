"""Bootstrap over source images: all conditions of a source image are resampled together.

As ITU-T P.1401 and the IQA literature advise (conditions of one content are not independent),
each resample draws as many source images as there are, with replacement, and takes every
condition of each drawn image. With fewer than two source images the conditions themselves are
resampled (``unit`` says which). Seeded: the same seed gives the same intervals.

A resample is held as integer weights (how often each condition appears in it), so statistics on
a thousand resamples are matrix operations: the Spearman correlation of a resample is the weighted
Pearson correlation of the multiset's average ranks, exactly what ``scipy.stats.spearmanr`` gives on
the expanded resample (checked in tests/unit/analysis/test_correlation.py).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95
MIN_N = 4
_CHUNK_CELLS = 2_000_000  # resamples x conditions held in memory at once


class ImageBootstrap:
    """``n_resamples`` seeded resamples of the source images behind ``labels`` (one label per condition)."""

    def __init__(self, labels: Sequence[str], n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> None:
        codes: dict[str, int] = {}
        unit_of = [codes.setdefault(label, len(codes)) for label in labels]
        if len(codes) >= 2:
            self.unit = "image"
            self.unit_of = np.array(unit_of, dtype=np.intp)
        else:
            self.unit = "condition"
            self.unit_of = np.arange(len(labels), dtype=np.intp)
        n_units = int(self.unit_of.max()) + 1 if len(labels) else 0
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, max(n_units, 1), size=(n_resamples, n_units))
        self.counts = np.zeros((n_resamples, n_units), dtype=np.int32)
        for k in range(n_resamples):
            self.counts[k] = np.bincount(draws[k], minlength=n_units)
        self.n_resamples = n_resamples

    def indices(self, k: int) -> np.ndarray:
        """The condition indices of resample ``k``, expanded (each repeated as often as it was drawn)."""
        weights = self.counts[k][self.unit_of]
        return np.repeat(np.arange(self.unit_of.size), weights)

    def weights(self, mask: np.ndarray | None = None) -> Iterator[np.ndarray]:
        """Chunks of the (resamples x conditions) weight matrix, restricted to the ``mask`` columns."""
        unit_of = self.unit_of if mask is None else self.unit_of[mask]
        step = max(1, _CHUNK_CELLS // max(1, unit_of.size))
        for start in range(0, self.n_resamples, step):
            yield self.counts[start:start + step][:, unit_of].astype(np.float64)

    def spearman(self, x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """SROCC of ``x`` and ``y`` (restricted to ``mask``) on every resample (NaN where undefined)."""
        if mask is not None:
            x, y = x[mask], y[mask]
        return np.concatenate([_weighted_pearson(_weighted_ranks(x, w), _weighted_ranks(y, w), w)
                               for w in self.weights(mask)]) if self.n_resamples else np.empty(0)

    def pearson(self, x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """PLCC of ``x`` and ``y`` (restricted to ``mask``) on every resample (NaN where undefined)."""
        if mask is not None:
            x, y = x[mask], y[mask]
        return np.concatenate([_weighted_pearson(np.broadcast_to(x, w.shape), np.broadcast_to(y, w.shape), w)
                               for w in self.weights(mask)]) if self.n_resamples else np.empty(0)

    def mean(self, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """The mean of ``values`` (restricted to ``mask``) on every resample (NaN for an empty resample)."""
        if mask is not None:
            values = values[mask]
        out = []
        for w in self.weights(mask):
            total = w.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out.append(np.where(total > 0, (w * values).sum(axis=1) / np.where(total > 0, total, 1), np.nan))
        return np.concatenate(out) if out else np.empty(0)


def _weighted_ranks(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties averaged) of each value within each resample's multiset."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    group_of = np.cumsum(np.r_[True, xs[1:] != xs[:-1]]) - 1
    group_weight = np.add.reduceat(w[:, order], starts, axis=1)
    before = np.cumsum(group_weight, axis=1) - group_weight
    ranks_sorted = (before + (group_weight + 1.0) / 2.0)[:, group_of]
    ranks = np.empty_like(ranks_sorted)
    ranks[:, order] = ranks_sorted
    return ranks


def _weighted_pearson(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    total = w.sum(axis=1)
    safe = np.where(total > 0, total, 1.0)
    mean_a = (w * a).sum(axis=1) / safe
    mean_b = (w * b).sum(axis=1) / safe
    da, db = a - mean_a[:, None], b - mean_b[:, None]
    cov = (w * da * db).sum(axis=1)
    var_a, var_b = (w * da * da).sum(axis=1), (w * db * db).sum(axis=1)
    # A constant variable has zero variance; allow for rounding in the weighted mean.
    defined = ((total >= MIN_N) & (var_a > 1e-12 * (w * a * a).sum(axis=1))
               & (var_b > 1e-12 * (w * b * b).sum(axis=1)))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(var_a * var_b)
    return np.where(defined, np.clip(r, -1.0, 1.0), np.nan)


def percentile_interval(distribution: np.ndarray, confidence: float = CONFIDENCE) -> list[float] | None:
    """Percentile interval [lo, hi] of the finite bootstrap values; None when fewer than half are finite."""
    finite = distribution[np.isfinite(distribution)]
    if finite.size < max(2, distribution.size // 2):
        return None
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(finite, [alpha, 1.0 - alpha])
    return [float(lo), float(hi)]


def two_sided_p(deltas: np.ndarray) -> float | None:
    """Two-sided bootstrap p-value that the paired difference is zero: 2 min(P(d <= 0), P(d >= 0)).

    Counted as (k + 1) / (B + 1) so a p-value is never reported as exactly 0 from B resamples.
    """
    finite = deltas[np.isfinite(deltas)]
    if finite.size == 0:
        return None
    k = min(int(np.sum(finite <= 0)), int(np.sum(finite >= 0)))
    return float(min(1.0, 2.0 * (k + 1) / (finite.size + 1)))
