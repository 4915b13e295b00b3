"""Balanced and active (ASAP-style) pair sampling (analysis.subjective.sampling)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import special

from analysis.subjective import Comparison, active_next_pair, balanced_next_pair
from analysis.subjective.sampling import (
    PRIOR_SD,
    REFERENCE_SD,
    expected_information_gain,
    gaussian_posterior,
    measurable_gain,
)
from analysis.subjective.thurstone import SIGMA


def test_balanced_sampling_compares_every_pair_equally_in_random_order():
    rng = np.random.default_rng(0)
    conditions = ["r", "a", "b", "c", "d"]
    counts: dict[frozenset, int] = {}
    order, sides = [], set()
    for _ in range(3 * 10):
        a, b = balanced_next_pair(conditions, counts, rng)
        counts[frozenset((a, b))] = counts.get(frozenset((a, b)), 0) + 1
        order.append(frozenset((a, b)))
        sides.add((a, b))
    assert set(counts.values()) == {3}
    assert order[:10] != order[10:20]
    assert len(sides) > 10  # both sides of a pair are shown


def test_active_sampling_prefers_an_uncertain_pair_over_a_settled_one():
    rng = np.random.default_rng(0)
    settled = [Comparison(f"o{x}", "s", "a", "b", True) for x in range(40)]
    settled += [Comparison(f"o{x}", "s", "b", "c", x % 2 == 0) for x in range(2)]
    picks = {frozenset(active_next_pair(["a", "b", "c"], settled, rng)) for _ in range(5)}
    assert frozenset(("a", "b")) not in picks


def test_active_sampling_ignores_other_scenes_conditions_and_pins_the_reference():
    rng = np.random.default_rng(1)
    other = [Comparison("o", "t", "x", "y", True)] * 5
    a, b = active_next_pair(["ref", "p", "q"], other, rng, references={"s": "ref"})
    assert {a, b} <= {"ref", "p", "q"} and a != b


def test_expected_information_gain_matches_monte_carlo_moment_matching():
    mean = np.array([0.0, -1.0])
    cov = np.array([[0.8, 0.1], [0.1, 0.5]])
    m, v = 1.0, 0.8 + 0.5 - 0.2
    rng = np.random.default_rng(0)
    d = rng.normal(m, np.sqrt(v), 2_000_000)
    like = special.ndtr(d / SIGMA)
    gain = 0.0
    for w in (like, 1 - like):
        p = w.mean()
        m1 = np.sum(w * d) / w.sum()
        v1 = np.sum(w * (d - m1) ** 2) / w.sum()
        gain += p * 0.5 * (v1 / v + (m1 - m) ** 2 / v - 1 + np.log(v / v1))
    ours = expected_information_gain(mean, cov, np.array([0]), np.array([1]))[0]
    assert ours == pytest.approx(gain, rel=0.02)


@pytest.mark.parametrize("conditions", [["a"], ["a", "a"]])
def test_too_few_or_repeated_conditions_are_refused(conditions):
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError):
        balanced_next_pair(conditions, {}, rng)
    with pytest.raises(ValueError):
        active_next_pair(conditions, [], rng)


def test_every_pair_is_reachable_by_active_sampling_at_the_start():
    rng = np.random.default_rng(3)
    conditions = ["a", "b", "c", "d"]
    seen = {frozenset(active_next_pair(conditions, [], rng)) for _ in range(60)}
    assert seen == {frozenset(p) for p in itertools.combinations(conditions, 2)}


def test_active_sampling_prefers_a_measurable_pair_to_a_near_unanimous_one():
    # c beat d 3-0 and ASAP's plain information gain would ask that pair again; a 1-1 pair (ref, b)
    # measures a distance, so it goes first (issue 29: keep distances measurable).
    wins = {
        ("ref", "b"): 1,
        ("b", "ref"): 1,
        ("ref", "c"): 2,
        ("ref", "d"): 2,
        ("b", "c"): 3,
        ("b", "d"): 1,
        ("c", "d"): 3,
    }
    comparisons = [Comparison("o", "s", a, b, True) for (a, b), k in wins.items() for _ in range(k)]
    conditions = ["ref", "b", "c", "d"]
    index = {c: x for x, c in enumerate(conditions)}
    counts = np.zeros((4, 4))
    for (a, b), k in wins.items():
        counts[index[a], index[b]] = k
    prior_var = np.array([REFERENCE_SD**2, PRIOR_SD**2, PRIOR_SD**2, PRIOR_SD**2])
    mean, cov = gaussian_posterior(4, counts, prior_var)
    i, j = np.triu_indices(4, 1)
    plain = int(np.argmax(expected_information_gain(mean, cov, i, j)))
    assert {conditions[i[plain]], conditions[j[plain]]} == {"c", "d"}
    rng = np.random.default_rng(0)
    assert frozenset(active_next_pair(conditions, comparisons, rng, references={"s": "ref"})) == {"ref", "b"}
    gain = measurable_gain(mean, cov, i, j)
    assert np.all(gain <= expected_information_gain(mean, cov, i, j))
