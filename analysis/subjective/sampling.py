"""Which pair to show next: balanced and active (ASAP, Mikhailiuk et al. 2020) (interface)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from analysis.subjective.types import Comparison


def balanced_next_pair(
    conditions: Sequence[str], counts: Mapping[frozenset, int], rng: np.random.Generator
) -> tuple[str, str]:
    """A least-compared pair (ties broken at random), sides in random order."""
    raise NotImplementedError("balanced_next_pair: being implemented (H3a)")


def active_next_pair(
    conditions: Sequence[str],
    comparisons: Sequence[Comparison],
    rng: np.random.Generator,
    *,
    references: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The pair with the largest expected information gain over the current posterior (ASAP)."""
    raise NotImplementedError("active_next_pair: being implemented (H3a)")
