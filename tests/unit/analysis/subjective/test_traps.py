"""Observers who fail hidden trap trials (analysis.subjective.screening)."""

from __future__ import annotations

import pytest

from analysis.subjective import trap_failures


def test_observer_failing_more_than_a_quarter_of_traps_is_flagged_with_a_reason():
    flagged = trap_failures({"good": [True, True, True, False], "bad": [False, True, False], "none": []})
    assert flagged == {"bad": "failed 2 of 3 trap trials (67% > 25%)"}


def test_threshold_and_minimum_are_configurable():
    results = {"x": [True, False]}
    assert trap_failures(results, max_fail_rate=0.5) == {}
    assert "x" in trap_failures(results, max_fail_rate=0.4)
    assert trap_failures(results, min_traps=3) == {}
    with pytest.raises(ValueError):
        trap_failures(results, max_fail_rate=1.0)
