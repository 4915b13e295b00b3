"""AIC-3 triplet scaling (analysis.subjective.triplet): a known JND scale and boosting transform come
back from simulated PTC + BTC answers with traps, bias triplets and "not sure"; trap screening removes
random clickers (and without it the scale shrinks)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.subjective.simulate_triplet import simulate_triplets
from analysis.subjective.triplet import TripletAnswer, otsu_threshold, triplet_scale

TRUTH = {"a": [0.0, 0.3, 0.7, 1.2, 1.8, 2.5], "b": [0.0, 0.2, 0.6, 1.0, 1.6, 2.2]}
G1, G2 = 2.0, -0.1  # the boosting transform h(d) = G1 d + G2 d^2 the simulated observers see


def _label(group: str, i: int) -> str:
    return f"{group}{i}"


def simulate(seed: int = 0, honest: int = 80, clickers: int = 8) -> list[TripletAnswer]:
    return simulate_triplets(TRUTH, gain=(G1, G2), honest=honest, clickers=clickers, seed=seed)


REFERENCES = {"a": "a0", "b": "b0"}


@pytest.fixture(scope="module")
def answers() -> list[TripletAnswer]:
    return simulate()


@pytest.fixture(scope="module")
def scale(answers):
    return triplet_scale(
        answers,
        REFERENCES,
        bootstrap=30,
        seed=1,
        boost_classes={(g, _label(g, i)): "all" for g in TRUTH for i in range(len(TRUTH[g]))},
    )


def test_joint_ptc_btc_recovers_the_known_jnd_scale_and_boosting_gain(scale):
    est = {c.label: c for c in scale.conditions}
    errors = [est[_label(g, i)].jnd - x for g, truth in TRUTH.items() for i, x in enumerate(truth)]
    assert np.mean(np.abs(errors)) < 0.15
    assert est["a0"].reference and est["a0"].jnd == 0.0 and est["a0"].score == 0.0
    assert est["a5"].score == -est["a5"].jnd
    g1, g2 = scale.boost_curves["all"]
    for d in (1.0, 2.0):  # the boosting transform (g1 and g2 alone trade off against each other)
        assert g1 * d + g2 * d * d == pytest.approx(G1 * d + G2 * d * d, rel=0.2)
    true_gain = np.median([G1 + G2 * x for truth in TRUTH.values() for x in truth[1:]])
    assert scale.boost_gain == pytest.approx(true_gain, rel=0.2)
    truth = {_label(g, i): x for g, t in TRUTH.items() for i, x in enumerate(t)}
    inside = [c.ci_low <= truth[c.label] <= c.ci_high for c in scale.conditions if not c.reference]
    assert np.mean(inside) >= 0.7
    assert all(c.ci_low <= c.jnd + 1e-9 and c.jnd <= c.ci_high + 1e-9 for c in scale.conditions)


def test_traps_screen_out_random_clickers_and_traps_and_bias_stay_out_of_the_scale(scale, answers):
    assert sorted(scale.observers_screened_out) == sorted(f"w{o}" for o in range(80, 88))
    assert scale.observers == 80
    assert scale.answers_trap == sum(a.trap for a in answers)
    assert scale.answers_bias == sum(a.bias for a in answers)
    honest_used = sum(1 for a in answers if not a.trap and not a.bias and int(a.observer[1:]) < 80)
    assert scale.answers_used == honest_used
    assert set(scale.trap_thresholds) == {"plain", "boosted"}


def test_without_screening_random_clickers_shrink_the_scale():
    noisy = simulate(seed=3, honest=30, clickers=30)
    kept = triplet_scale(noisy, REFERENCES, bootstrap=0)
    raw = triplet_scale(noisy, REFERENCES, bootstrap=0, screening="none")
    top = {c.label: c.jnd for c in kept.conditions}, {c.label: c.jnd for c in raw.conditions}
    assert raw.observers_screened_out == [] and len(kept.observers_screened_out) == 30
    assert top[1]["a5"] < 0.8 * top[0]["a5"]
    assert abs(top[0]["a5"] - 2.5) < 0.5


def test_otsu_threshold_splits_two_modes():
    assert otsu_threshold([1.0, 0.9, 1.0, 0.3, 0.4, 1.0]) == pytest.approx(0.65)
    assert otsu_threshold([1.0, 1.0]) is None


def test_bad_input_is_named():
    good = TripletAnswer("o", "g", "r", "r", "x", "left", trap=True)
    with pytest.raises(ValueError, match="group 'h' has no reference"):
        triplet_scale([TripletAnswer("o", "h", "r", "r", "x", "left")], {"g": "r"})
    with pytest.raises(ValueError, match="unknown choice 'maybe'"):
        triplet_scale([TripletAnswer("o", "g", "r", "r", "x", "maybe")], {"g": "r"})
    with pytest.raises(ValueError, match="exactly one side"):
        triplet_scale([good, TripletAnswer("o", "g", "r", "x", "y", "left", trap=True)], {"g": "r"})
    with pytest.raises(ValueError, match="no usable triplet answers"):
        triplet_scale([good], {"g": "r"})


def test_a_small_plain_study_without_traps_scales_and_warns_about_its_intervals():
    answers = [
        TripletAnswer("o1", "img", "ref", "ref", "q1", "right"),
        TripletAnswer("o1", "img", "ref", "q1", "q2", "right"),
        TripletAnswer("o2", "img", "ref", "q2", "ref", "left"),
        TripletAnswer("o2", "img", "ref", "q1", "q2", "not_sure"),
    ]
    scale = triplet_scale(answers, {"img": "ref"}, bootstrap=5)
    est = {c.label: c for c in scale.conditions}
    assert scale.boost_gain is None and scale.boost_curves == {} and scale.trap_thresholds == {}
    assert est["ref"].jnd == 0.0 and 0.0 < est["q1"].jnd < est["q2"].jnd
    assert est["q1"].answers == 3 and scale.answers_used == 4
    assert any("2 observer" in w for w in scale.warnings)
