"""Thurstone Case V scaling in JOD (analysis.subjective.pairwise / thurstone), checked against choix
and against simulated observers whose true scale is known."""

from __future__ import annotations

import itertools

import choix
import numpy as np
import pytest
from scipy import stats

from analysis.subjective import Comparison, scale_pairwise, simulate_observers
from analysis.subjective.thurstone import SIGMA, link_components, thurstone_case_v

TRUTH = {"ref": 0.0, "q4": -0.6, "q3": -1.4, "q2": -2.3, "q1": -3.4}


def _scores(scale):
    return {c.condition: c.score for c in scale.conditions}


def _all_pairs(truth, repeats=1):
    return list(itertools.combinations(truth, 2)) * repeats


def test_one_jod_means_75_percent_preference():
    assert stats.norm.cdf(1.0 / SIGMA) == pytest.approx(0.75, abs=1e-4)


def test_scale_matches_choix_probit_and_bradley_terry_ranking():
    rng = np.random.default_rng(3)
    names = list(TRUTH)
    comps = simulate_observers(TRUTH, _all_pairs(TRUTH, 2), 12, rng)
    ours = thurstone_case_v(_counts(comps, names), prior="none", fixed=0)
    data = [
        (names.index(c.a), names.index(c.b)) if c.a_selected else (names.index(c.b), names.index(c.a)) for c in comps
    ]
    bt = choix.opt_pairwise(len(names), data, alpha=1e-6)
    assert list(np.argsort(-ours)) == list(np.argsort(-bt))
    assert stats.pearsonr(ours, bt)[0] > 0.99
    with_prior = _scores(scale_pairwise(comps, references={"0": "ref"}, n_bootstrap=0))
    assert stats.pearsonr([with_prior[n] for n in names], bt)[0] > 0.99


def _counts(comps, names):
    counts = np.zeros((len(names), len(names)))
    for c in comps:
        a, b = names.index(c.a), names.index(c.b)
        counts[(a, b) if c.a_selected else (b, a)] += 1
    return counts


def test_recovered_scale_ranks_conditions_like_the_truth():
    rng = np.random.default_rng(7)
    comps = simulate_observers(TRUTH, _all_pairs(TRUTH), 25, rng)
    scale = scale_pairwise(comps, references={"0": "ref"}, n_bootstrap=100)
    scores = _scores(scale)
    assert scores["ref"] == 0.0
    assert sorted(scores, key=scores.get, reverse=True) == list(TRUTH)
    assert stats.spearmanr([scores[c] for c in TRUTH], list(TRUTH.values()))[0] == pytest.approx(1.0)
    assert max(abs(scores[c] - TRUTH[c]) for c in TRUTH) < 0.8
    for c in scale.conditions:
        assert c.ci_low <= c.score <= c.ci_high
        assert c.n == 4 * 25


def test_unanimous_answers_stay_finite():
    comps = [Comparison(f"o{x}", "s", "ref", "bad", True) for x in range(6)]
    comps += [Comparison(f"o{x}", "s", "ref", "mid", x < 5) for x in range(6)]
    comps += [Comparison(f"o{x}", "s", "mid", "bad", x < 4) for x in range(6)]
    scores = _scores(scale_pairwise(comps, references={"s": "ref"}, n_bootstrap=50))
    assert all(np.isfinite(v) for v in scores.values())
    assert scores["ref"] == 0.0 > scores["mid"] > scores["bad"] > -10
    two = _scores(scale_pairwise(comps[:6], references={"s": "ref"}, n_bootstrap=0))
    assert -10 < two["bad"] < -1


def test_disconnected_comparison_graph_is_warned_and_linked():
    comps = [Comparison(f"o{x}", "s", "ref", "a", x < 4) for x in range(5)]
    comps += [Comparison(f"o{x}", "s", "b", "c", x < 4) for x in range(5)]
    scale = scale_pairwise(comps, references={"s": "ref"}, n_bootstrap=20)
    assert any("2 disconnected components" in w for w in scale.warnings)
    assert all(np.isfinite(c.score) for c in scale.conditions)
    linked, n_comp = link_components(_counts(comps, ["ref", "a", "b", "c"]))
    assert n_comp == 2 and linked[0, 2] == linked[2, 0] == 1  # best of each component tied once


def test_random_observer_is_flagged_and_kept_out_of_the_scale():
    rng = np.random.default_rng(11)
    comps = simulate_observers(TRUTH, _all_pairs(TRUTH, 2), 12, rng, random_observers=1)
    scale = scale_pairwise(comps, references={"0": "ref"}, n_bootstrap=20)
    flagged = {o.observer: o for o in scale.observers if o.outlier}
    assert list(flagged) == ["random00"]
    assert "worse than expected" in flagged["random00"].reason
    assert flagged["random00"].trials == 20
    kept = scale_pairwise([c for c in comps if c.observer != "random00"], references={"0": "ref"}, n_bootstrap=20)
    assert _scores(scale) == pytest.approx(_scores(kept))
    assert next(c for c in scale.conditions if c.condition == "q1").n == 4 * 2 * 12
    everyone = scale_pairwise(comps, references={"0": "ref"}, n_bootstrap=20, exclude_outliers=False)
    assert any(o.outlier for o in everyone.observers)
    assert _scores(everyone) != pytest.approx(_scores(kept))


def test_externally_flagged_observer_is_reported_and_excluded():
    rng = np.random.default_rng(2)
    comps = simulate_observers(TRUTH, _all_pairs(TRUTH), 6, rng)
    scale = scale_pairwise(comps, references={"0": "ref"}, n_bootstrap=0, flagged={"obs03": "failed 3 of 4 traps"})
    report = next(o for o in scale.observers if o.observer == "obs03")
    assert report.outlier and report.reason.startswith("failed 3 of 4 traps")
    assert next(c for c in scale.conditions if c.condition == "q1").n == 4 * 5


def test_bootstrap_is_reproducible_with_a_seed_and_varies_without():
    rng = np.random.default_rng(5)
    comps = simulate_observers(TRUTH, _all_pairs(TRUTH), 8, rng)
    first = scale_pairwise(comps, references={"0": "ref"}, n_bootstrap=60, seed=1)
    again = scale_pairwise(comps, references={"0": "ref"}, n_bootstrap=60, seed=1)
    other = scale_pairwise(comps, references={"0": "ref"}, n_bootstrap=60, seed=2)
    assert first == again
    assert [c.ci_low for c in first.conditions] != [c.ci_low for c in other.conditions]
    assert [c.score for c in first.conditions] == [c.score for c in other.conditions]


def test_scenes_are_scaled_separately_each_with_its_reference_at_zero():
    rng = np.random.default_rng(4)
    comps = simulate_observers(TRUTH, _all_pairs(TRUTH), 6, rng, scene="1")
    other = {"orig": 0.0, "x": -2.0, "y": -0.5}
    comps += simulate_observers(other, _all_pairs(other), 6, rng, scene="2")
    scale = scale_pairwise(comps, references={"1": "ref", "2": "orig"}, n_bootstrap=0)
    by_scene = {(c.scene, c.condition): c.score for c in scale.conditions}
    assert by_scene[("1", "ref")] == 0.0 and by_scene[("2", "orig")] == 0.0
    assert len(by_scene) == len(TRUTH) + len(other)
    assert by_scene[("2", "y")] > by_scene[("2", "x")]


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="itself"):
        scale_pairwise([Comparison("o", "s", "a", "a", True)], references={"s": "a"})
    with pytest.raises(ValueError, match="prior"):
        scale_pairwise([], references={}, prior="uniform")
    with pytest.raises(ValueError, match="n_bootstrap"):
        scale_pairwise([], references={}, n_bootstrap=-1)
    empty = scale_pairwise([], references={})
    assert empty.unit == "JOD" and empty.conditions == [] and empty.warnings


def test_a_single_observer_gets_a_warning_instead_of_meaningful_intervals():
    comps = [
        Comparison("o", "s", "r", "a", True),
        Comparison("o", "s", "r", "b", True),
        Comparison("o", "s", "a", "b", False),
    ]
    scale = scale_pairwise(comps, references={"s": "r"}, n_bootstrap=20)
    assert any("understate the uncertainty" in w for w in scale.warnings)
    assert any("screening needs at least" in w for w in scale.warnings)
    assert _scores(scale)["r"] == 0.0 > _scores(scale)["b"] > _scores(scale)["a"]


def test_expanded_percentiles_widen_small_samples_and_converge_to_plain_ones():
    from analysis.subjective.pairwise import expanded_percentiles

    low10, high10 = expanded_percentiles(10)
    low1000, high1000 = expanded_percentiles(1000)
    assert low10 < low1000 < 0.025 and low10 + high10 == pytest.approx(1.0)
    assert low1000 == pytest.approx(0.025, abs=1e-3) and high1000 == pytest.approx(0.975, abs=1e-3)
