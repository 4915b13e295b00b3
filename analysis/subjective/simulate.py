"""Simulated observers with a known true scale (Thurstone Case V), for tests and benchmarks.

As pwcmp's ``pw_simulate_exp`` (Perez-Ortiz and Mantiuk 2017): an observer prefers ``a`` to ``b``
with probability ``Phi((q_a - q_b) / 1.4826)``, so a true difference of 1 JOD gives 75% preference.
A random observer answers each trial with a fair coin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from scipy import special

from analysis.subjective.thurstone import SIGMA
from analysis.subjective.types import Comparison


def preference_probability(q_a: float | np.ndarray, q_b: float | np.ndarray) -> np.ndarray:
    """P(``a`` chosen over ``b``) under Thurstone Case V in JOD: ``Phi((q_a - q_b) / 1.4826)``."""
    return special.ndtr((np.asarray(q_a, dtype=float) - np.asarray(q_b, dtype=float)) / SIGMA)


def simulate_observers(
    true_scale: Mapping[str, float],
    pairs: Iterable[tuple[str, str]],
    n_observers: int,
    rng: np.random.Generator,
    *,
    random_observers: int = 0,
    scene: str = "0",
) -> list[Comparison]:
    """Each of ``n_observers`` Thurstone observers and ``random_observers`` coin-flippers answers
    every pair in ``pairs`` once (sides as given). Observers are named ``obs00, obs01, ...``; the
    random ones come last and are named ``random00, ...``. All answers belong to ``scene``.
    """
    pairs = list(pairs)
    if n_observers < 0 or random_observers < 0:
        raise ValueError("observer counts must be >= 0")
    for a, b in pairs:
        if a not in true_scale or b not in true_scale:
            raise ValueError(f"pair ({a!r}, {b!r}) names a condition without a true score")
    if not pairs:
        return []
    p = preference_probability(np.array([true_scale[a] for a, _ in pairs]), np.array([true_scale[b] for _, b in pairs]))
    out: list[Comparison] = []
    names = [f"obs{x:02d}" for x in range(n_observers)] + [f"random{x:02d}" for x in range(random_observers)]
    for x, name in enumerate(names):
        chance = p if x < n_observers else np.full(len(pairs), 0.5)
        chosen = rng.random(len(pairs)) < chance
        out.extend(Comparison(name, scene, a, b, bool(s)) for (a, b), s in zip(pairs, chosen))
    return out
