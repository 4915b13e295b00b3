"""Observer credibility from hidden trap trials.

A trap trial has a known right answer (issue 9: the hidden reference against the lowest-rate
condition, or for DSIS the reference rated against itself). An observer is flagged when the share of
failed traps exceeds ``max_fail_rate`` (default 25%, i.e. more than one in four), with at least
``min_traps`` answered; flagged observers are reported, not silently dropped (the scale functions
take them through their ``flagged`` argument).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def trap_failures(
    trap_results: Mapping[str, Sequence[bool]], *, max_fail_rate: float = 0.25, min_traps: int = 1
) -> dict[str, str]:
    """Observers whose failed-trap share exceeds ``max_fail_rate`` -> reason. ``True`` = trap passed."""
    if not 0.0 <= max_fail_rate < 1.0:
        raise ValueError("max_fail_rate must be in [0, 1)")
    flagged: dict[str, str] = {}
    for observer, results in trap_results.items():
        answered = len(results)
        if answered < max(min_traps, 1):
            continue
        failed = sum(1 for passed in results if not passed)
        if failed / answered > max_fail_rate:
            flagged[observer] = (
                f"failed {failed} of {answered} trap trials ({failed / answered:.0%} > {max_fail_rate:.0%})"
            )
    return flagged
