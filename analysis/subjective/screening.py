"""Observer credibility from hidden trap trials (interface)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence


def trap_failures(
    trap_results: Mapping[str, Sequence[bool]], *, max_fail_rate: float = 0.25
) -> dict[str, str]:
    """Observers whose failed-trap share exceeds ``max_fail_rate`` -> reason. ``True`` = trap passed."""
    raise NotImplementedError("trap_failures: being implemented (H3a)")
