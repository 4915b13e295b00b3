"""Simulated triplet observers with a known JND scale and boosting transform, for tests and benchmarks.

Each honest observer answers as ``analysis.subjective.triplet`` models it: with the reference as pivot,
``left`` is named with probability ``p = Phi((h(x_l) - h(x_r)) / 1.4826)`` (``h`` = identity for
plain trials, ``g1 d + g2 d^2`` for boosted ones). Where the comparison is hard the observer says "not
sure" instead of guessing: with probability ``not_sure * 2 min(p, 1 - p)``, taken half from each side,
so the expected vote (a "not sure" being half a vote each way) stays ``p``. A random clicker picks
left, right or "not sure" uniformly, traps included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import special

from analysis.subjective.triplet import SIGMA, TripletAnswer


def _choice(rng: np.random.Generator, p: float, not_sure: float) -> str:
    q = not_sure * 2 * min(p, 1 - p)
    u = rng.random()
    if u < q:
        return "not_sure"
    return "left" if u < q + (p - q / 2) else "right"


def simulate_triplets(
    truth: Mapping[str, Sequence[float]],
    *,
    gain: tuple[float, float] = (2.0, -0.1),
    honest: int = 80,
    clickers: int = 8,
    not_sure: float = 0.4,
    traps: int = 6,
    seed: int = 0,
) -> list[TripletAnswer]:
    """One batch per observer; odd-numbered observers see boosted trials. For each group of ``truth``
    (JND of its conditions, the reference first at 0), every pair of conditions once in random sides,
    ``traps`` trap triplets (reference vs the last condition) and one bias triplet. Labels are
    ``<group><index>``; the reference is ``<group>0``; observers ``w0``... with clickers last."""
    rng = np.random.default_rng(seed)
    g1, g2 = gain
    answers = []
    for o in range(honest + clickers):
        observer, boosted, random = f"w{o}", o % 2 == 1, o >= honest
        for group, values in truth.items():
            n = len(values)
            trials = [(i, j, False, False) for i in range(n) for j in range(i + 1, n)]
            trials += [(0, n - 1, True, False)] * traps + [(min(2, n - 1),) * 2 + (False, True)]
            for i, j, trap, bias in trials:
                if rng.random() < 0.5:
                    i, j = j, i
                if random:
                    choice = ("left", "right", "not_sure")[rng.integers(3)]
                else:
                    hl, hr = values[i], values[j]
                    if boosted:
                        hl, hr = g1 * hl + g2 * hl * hl, g1 * hr + g2 * hr * hr
                    choice = _choice(rng, float(special.ndtr((hl - hr) / SIGMA)), not_sure)
                answers.append(
                    TripletAnswer(
                        observer,
                        group,
                        f"{group}0",
                        f"{group}{i}",
                        f"{group}{j}",
                        choice,
                        boosted=boosted,
                        trap=trap,
                        bias=bias,
                        batch=f"{observer}-1",
                    )
                )
    return answers
