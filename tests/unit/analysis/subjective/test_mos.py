"""DSIS / ACR ratings -> MOS with 95% t-intervals and ITU-R BT.500 screening (analysis.subjective.rating)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.subjective import Rating, scale_ratings


def _panel(rng, n_observers=15, conditions=("ref", "hi", "mid", "lo"), means=(4.8, 4.0, 3.0, 1.8)):
    out = []
    for o in range(n_observers):
        for c, m in zip(conditions, means):
            out.append(Rating(f"o{o:02d}", "s", c, float(np.clip(np.round(rng.normal(m, 0.5)), 1, 5))))
    return out


def test_mos_and_interval_match_scipy_t_interval():
    rng = np.random.default_rng(0)
    ratings = _panel(rng)
    scale = scale_ratings(ratings, exclude_outliers=False)
    assert scale.unit == "MOS"
    for c in scale.conditions:
        values = np.array([r.score for r in ratings if r.condition == c.condition])
        low, high = stats.t.interval(0.95, values.size - 1, loc=values.mean(), scale=stats.sem(values))
        assert c.score == pytest.approx(values.mean())
        assert (c.ci_low, c.ci_high) == pytest.approx((low, high))
        assert c.n == 15


def test_bt500_screening_flags_a_deviant_rater_and_leaves_him_out():
    # BT.500 rejects a rater whose ratings fall outside 2 s of the panel often AND on both sides.
    rng = np.random.default_rng(2)
    means = np.linspace(2.2, 3.8, 10)
    ratings = [
        Rating(f"o{o:02d}", "s", f"c{x}", float(np.clip(rng.normal(m, 0.4), 1, 5)))
        for o in range(15)
        for x, m in enumerate(means)
    ]
    odd = [Rating("odd", "s", f"c{x}", float(m + 1.0 if x % 2 else m - 1.0)) for x, m in enumerate(means)]
    scale = scale_ratings(ratings + odd)
    flagged = {o.observer: o.reason for o in scale.observers if o.outlier}
    assert list(flagged) == ["odd"]
    assert "BT.500" in flagged["odd"]
    assert all(c.n == 15 for c in scale.conditions)
    kept = scale_ratings(ratings + odd, exclude_outliers=False)
    assert all(c.n == 16 for c in kept.conditions)


def test_single_rating_has_no_interval_and_says_so():
    scale = scale_ratings([Rating("a", "s", "c", 3.0)])
    assert scale.conditions[0].ci_low == scale.conditions[0].ci_high == 3.0
    assert any("one rating" in w for w in scale.warnings)


@pytest.mark.parametrize("score", [0.0, 6.0, float("nan")])
def test_out_of_range_rating_is_refused(score):
    with pytest.raises(ValueError, match="outside"):
        scale_ratings([Rating("a", "s", "c", score)])
