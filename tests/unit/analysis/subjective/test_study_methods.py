"""Study methods as plugins (analysis.subjective.methods): the registry, trial drawing, answer checks, traps."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.subjective.methods import Answer, InvalidAnswer, Stimulus, get_method, method_names
from analysis.subjective.pwcmp_csv import PwcmpFormatError, read_pwcmp_answers


def _groups() -> dict[str, list[Stimulus]]:
    return {
        g: [Stimulus(f"{g}0", g, True), *(Stimulus(f"{g}{k}", g, False, (float(k),)) for k in (1, 2, 3))]
        for g in ("1", "2")
    }


def test_registry_knows_pairwise_dsis_and_triplet_and_names_them_when_asked_for_another():
    assert method_names() == ["pairwise", "dsis", "triplet"]
    assert [get_method(n).unit for n in method_names()] == ["JOD", "MOS", "JND"]
    with pytest.raises(KeyError, match="pairwise, dsis, triplet"):
        get_method("ranking")


def test_triplet_draws_two_reconstructions_its_trap_shows_the_reference_and_bias_one_condition_twice():
    triplet = get_method("triplet")
    rng = np.random.default_rng(0)
    trial = triplet.draw_regular(_groups(), [], "balanced", rng)
    assert trial.a != trial.b and not trial.a.endswith("0") and not trial.b.endswith("0")
    trap = triplet.draw_control("trap", _groups(), rng)
    assert {trap.a[-1], trap.b[-1]} == {"0", "1"}  # the reference and the lowest-ranked (strongest) distortion
    bias = triplet.draw_control("bias", _groups(), rng)
    assert bias.a == bias.b and bias.control == "bias"
    references = {"10", "20"}
    distorted_side = "left" if trap.b.endswith("0") else "right"
    passed = Answer("o", trap.group, trap.a, trap.b, "trap", choice=distorted_side)
    assert triplet.trap_passed(passed, references)
    assert not triplet.trap_passed(Answer("o", trap.group, trap.a, trap.b, "trap", choice="not_sure"), references)


@pytest.mark.parametrize(
    "method, choice, score, ok",
    [
        ("pairwise", "a", None, True),
        ("pairwise", "left", None, False),
        ("pairwise", "a", 3, False),
        ("dsis", None, 5, True),
        ("dsis", None, 6, False),
        ("dsis", "a", 4, False),
        ("triplet", "not_sure", None, True),
        ("triplet", "a", None, False),
        ("triplet", "left", 2, False),
    ],
)
def test_each_method_checks_its_own_answer_shape(method, choice, score, ok):
    if ok:
        get_method(method).check_answer(choice, score)
    else:
        with pytest.raises(InvalidAnswer):
            get_method(method).check_answer(choice, score)


def test_plan_keeps_controls_to_a_third_and_only_methods_with_a_same_stimulus_control_get_one():
    for name, same in (("pairwise", "identical"), ("dsis", None), ("triplet", "bias")):
        plan = get_method(name).plan(12, 2, 2, np.random.default_rng(1))
        controls = sum(p != "regular" for p in plan)  # 2 traps + 1 repeat (+ 1 same-stimulus trial) of 12 <= 4
        assert plan[0] == "regular" and controls == (4 if same else 3) and "repeat" in plan
        assert (same in plan) if same else set(plan) <= {"regular", "trap", "repeat"}


def test_pwcmp_reader_labels_licbench_exports_and_drops_identical_rows():
    export = (
        b"observer,scene,condition_A,condition_B,is_A_selected,control,codec_A,rate_point_A,codec_B,rate_point_B\n"
        b"s1,7,11,12,1,regular,jpeg,10,jpeg,40\n"
        b"s1,7,12,12,1,identical,jpeg,40,jpeg,40\n"
        b"s1,7,10,12,1,trap,reference,,jpeg,40\n"
    )
    parsed = read_pwcmp_answers([("e.csv", export)])
    assert parsed.licbench_export and parsed.references == {"7": "reference"}
    assert [(c.a, c.b, c.control) for c in parsed.comparisons] == [
        ("jpeg @ 10", "jpeg @ 40", "regular"),
        ("reference", "jpeg @ 40", "trap"),
    ]
    with pytest.raises(PwcmpFormatError, match="file x.csv, row 2, column scene"):
        read_pwcmp_answers([("x.csv", b"observer,scene,condition_A,condition_B,is_A_selected\no,,a,b,1\n")])
