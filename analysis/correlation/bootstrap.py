"""Bootstrap over source images: all conditions of a source image are resampled together.

As ITU-T P.1401 and the IQA literature advise (conditions of one content are not independent),
each resample draws as many source images as there are, with replacement, and takes every
condition of each drawn image. With fewer than two source images the conditions themselves are
resampled (``unit`` says which). Seeded: the same seed gives the same intervals.

A resample is held as counts (how often each source image was drawn), so statistics on a thousand
resamples are matrix operations: means and Pearson moments are linear in the counts, and the average
rank of a condition within a resample is ``counts @ basis`` (how many of each image's conditions lie
below it, ties one half), so the Spearman correlation of a resample is the weighted Pearson
correlation of those ranks: exactly what ``scipy.stats.spearmanr`` gives on the expanded resample
(checked in tests/unit/analysis/test_correlation.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95
MIN_N = 4
_CHUNK_CELLS = 2_000_000  # resamples x conditions held in memory at once
_BASIS_CELLS = 20_000_000  # units x conditions of the rank basis


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
        self.n_units = int(self.unit_of.max()) + 1 if len(labels) else 0
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, max(self.n_units, 1), size=(n_resamples, self.n_units))
        self.counts = np.zeros((n_resamples, self.n_units), dtype=np.float64)
        for k in range(n_resamples):
            self.counts[k] = np.bincount(draws[k], minlength=self.n_units)
        self.n_resamples = n_resamples

    def indices(self, k: int) -> np.ndarray:
        """The condition indices of resample ``k``, expanded (each repeated as often as it was drawn)."""
        weights = self.counts[k][self.unit_of].astype(np.intp)
        return np.repeat(np.arange(self.unit_of.size), weights)

    def _chunks(self, n_columns: int) -> Iterator[slice]:
        step = max(1, _CHUNK_CELLS // max(1, n_columns))
        for start in range(0, self.n_resamples, step):
            yield slice(start, start + step)

    def _rank_basis(self, x: np.ndarray, unit_of: np.ndarray) -> np.ndarray:
        """(units x conditions): how many of unit u's conditions lie below x_i, ties counted one half.

        The average rank of condition i in resample k is then (counts[k] @ basis)[i] + 1/2.
        """
        order = np.argsort(x, kind="stable")
        sorted_x = x[order]
        cumulative = np.zeros((self.n_units, x.size + 1))
        cumulative[unit_of[order], np.arange(1, x.size + 1)] = 1.0
        np.cumsum(cumulative, axis=1, out=cumulative)
        below = cumulative[:, np.searchsorted(sorted_x, x, side="left")]
        up_to = cumulative[:, np.searchsorted(sorted_x, x, side="right")]
        return below + 0.5 * (up_to - below)

    def spearman(self, x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """SROCC of ``x`` and ``y`` (restricted to ``mask``) on every resample (NaN where undefined)."""
        unit_of = self.unit_of if mask is None else self.unit_of[mask]
        if mask is not None:
            x, y = x[mask], y[mask]
        if self.n_resamples == 0:
            return np.empty(0)
        out = []
        if self.n_units * x.size > _BASIS_CELLS:  # many single-condition units: rank each resample directly
            for rows in self._chunks(x.size):
                w = self.counts[rows][:, unit_of]
                out.append(_weighted_pearson(_weighted_ranks(x, w), _weighted_ranks(y, w), w))
            return np.concatenate(out)
        basis_x, basis_y = self._rank_basis(x, unit_of), self._rank_basis(y, unit_of)
        for rows in self._chunks(x.size):
            counts = self.counts[rows]
            out.append(_weighted_pearson(counts @ basis_x + 0.5, counts @ basis_y + 0.5, counts[:, unit_of]))
        return np.concatenate(out)

    def _unit_sums(self, columns: list[np.ndarray], unit_of: np.ndarray) -> np.ndarray:
        """(resamples x len(columns)): each column summed over every resample (linear in the counts)."""
        per_unit = np.stack([np.bincount(unit_of, weights=c, minlength=self.n_units) for c in columns], axis=1)
        return self.counts @ per_unit

    def pearson(self, x: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """PLCC of ``x`` and ``y`` (restricted to ``mask``) on every resample (NaN where undefined)."""
        unit_of = self.unit_of if mask is None else self.unit_of[mask]
        if mask is not None:
            x, y = x[mask], y[mask]
        if self.n_resamples == 0:
            return np.empty(0)
        a, b = x - x.mean(), y - y.mean()  # centred once, for precision of the moment sums
        total, sa, sb, saa, sbb, sab = self._unit_sums([np.ones_like(a), a, b, a * a, b * b, a * b], unit_of).T
        return _pearson_from_moments(total, sa, sb, saa, sbb, sab)

    def mean(self, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """The mean of ``values`` (restricted to ``mask``) on every resample (NaN for an empty resample)."""
        unit_of = self.unit_of if mask is None else self.unit_of[mask]
        values = np.asarray(values if mask is None else values[mask], dtype=np.float64)
        if self.n_resamples == 0:
            return np.empty(0)
        total, sums = self._unit_sums([np.ones_like(values), values], unit_of).T
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, sums / np.where(total > 0, total, 1.0), np.nan)


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


def _pearson_from_moments(total, sa, sb, saa, sbb, sab) -> np.ndarray:
    safe = np.where(total > 0, total, 1.0)
    var_a, var_b = saa - sa * sa / safe, sbb - sb * sb / safe
    cov = sab - sa * sb / safe
    # A constant variable has zero variance; allow for rounding in the moment sums.
    defined = (total >= MIN_N) & (var_a > 1e-12 * saa) & (var_b > 1e-12 * sbb)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(var_a * var_b)
    return np.where(defined, np.clip(r, -1.0, 1.0), np.nan)


def _weighted_pearson(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Row-wise Pearson correlation of ``a`` and ``b`` with weights ``w`` (NaN where undefined)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    wa = w * a
    return _pearson_from_moments(
        w.sum(axis=1),
        wa.sum(axis=1),
        np.einsum("ki,ki->k", w, b),
        np.einsum("ki,ki->k", wa, a),
        np.einsum("ki,ki,ki->k", w, b, b),
        np.einsum("ki,ki->k", wa, b),
    )


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
