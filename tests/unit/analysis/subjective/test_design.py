"""Effective comparisons and the sparse, near-unanimous regime (analysis.subjective.design)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import special

from analysis.subjective import Comparison, scale_pairwise, simulate_observers
from analysis.subjective.design import design_warning, effective_comparisons, group_design, information_weight
from analysis.subjective.thurstone import SIGMA


def test_information_weight_is_one_at_even_odds_and_falls_as_answers_become_unanimous():
    d_at = lambda p: SIGMA * special.ndtri(p)  # noqa: E731  distance giving preference p
    assert information_weight(0.0) == pytest.approx(1.0)
    assert information_weight(d_at(0.9)) == pytest.approx(0.54, abs=0.01)
    assert information_weight(d_at(0.99)) == pytest.approx(0.11, abs=0.01)
    assert information_weight(-2.0) == pytest.approx(information_weight(2.0))
    assert np.isfinite(information_weight(40.0)) and information_weight(40.0) < 1e-100


def test_effective_comparisons_weight_each_answer_by_what_it_tells_about_the_distance():
    counts = np.array([[0, 6, 10], [4, 0, 9], [0, 1, 0]], dtype=float)
    scores = np.array([0.0, -0.5, -4.0])
    eff = effective_comparisons(counts, scores)
    w = information_weight
    assert eff[0] == pytest.approx(10 * w(0.5) + 10 * w(4.0))
    assert eff[2] == pytest.approx(10 * w(4.0) + 10 * w(3.5))
    assert np.all(eff <= (counts + counts.T).sum(axis=1))


def test_sparse_near_unanimous_group_is_flagged_and_a_measurable_one_is_not():
    sparse = np.zeros((5, 5))
    for i, j in itertools.combinations(range(5), 2):
        sparse[i, j] = 3  # every pair 3-0: the order, but no distance
    sparse[1, 2], sparse[2, 1] = 2, 1
    design = group_design(sparse)
    assert design.pairs == 10 and design.near_unanimous == 9 and design.unanimous == 9 and design.sparse_unanimous
    assert "near-unanimous" in design_warning(design)
    measurable = np.zeros((4, 4))
    for i, j in itertools.combinations(range(4), 2):
        measurable[i, j], measurable[j, i] = 14, 6  # 70% one way, 20 answers per pair
    assert not group_design(measurable).sparse_unanimous and design_warning(group_design(measurable)) is None
    only_order = np.array([[0.0, 30.0], [0.0, 0.0]])  # many answers, all one way
    assert "unanimous" in design_warning(group_design(only_order))


def test_scale_pairwise_reports_effective_comparisons_and_warns_about_the_sparse_group():
    far = {"ref": 0.0, "a": -2.5, "b": -5.0, "c": -7.5}
    near = {"ref": 0.0, "a": -0.4, "b": -0.8}
    rng = np.random.default_rng(3)
    comps = simulate_observers(far, list(itertools.combinations(far, 2)), 2, rng, scene="far")
    comps += simulate_observers(near, list(itertools.combinations(near, 2)) * 8, 4, rng, scene="near")
    scale = scale_pairwise(comps, references={"far": "ref", "near": "ref"}, n_bootstrap=0, exclude_outliers=False)
    assert [w.group for w in scale.group_warnings] == ["far"]
    assert any(w.startswith("scene far: ") and "unanimous" in w for w in scale.warnings)
    for c in scale.conditions:
        assert 0 < c.effective_comparisons <= c.n
    assert all(c.effective_comparisons > 0.5 * c.n for c in scale.conditions if c.scene == "near")


def test_ratings_scale_has_no_effective_comparisons():
    from analysis.subjective import Rating, scale_ratings

    scale = scale_ratings([Rating("o", "s", "x", 4.0), Rating("p", "s", "x", 5.0)])
    assert all(c.effective_comparisons is None for c in scale.conditions) and scale.group_warnings == []
    assert Comparison  # the pairwise record stays importable from the package
