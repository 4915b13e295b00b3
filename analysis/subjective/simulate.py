"""Simulated Thurstone Case V observers with a known true scale (interface)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from analysis.subjective.types import Comparison


def simulate_observers(
    true_scale: Mapping[str, float],
    pairs: Iterable[tuple[str, str]],
    n_observers: int,
    rng: np.random.Generator,
    *,
    random_observers: int = 0,
    scene: str = "0",
) -> list[Comparison]:
    """Each observer answers every pair once; P(a chosen) = Phi((q_a - q_b) / 1.4826) (JOD)."""
    raise NotImplementedError("simulate_observers: being implemented (H3a)")
