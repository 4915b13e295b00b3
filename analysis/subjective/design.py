"""Can a pairwise design measure distances? Effective comparisons and the sparse, near-unanimous regime.

A comparison tells the most about the distance between two conditions when the answer is uncertain
(50%); one between conditions that nearly everyone tells apart carries almost none. The Fisher
information of one Thurstone Case V answer about ``d = q_i - q_j`` is
``phi(x)^2 / (SIGMA^2 Phi(x) Phi(-x))`` with ``x = d / SIGMA``; relative to its value at ``d = 0``
(``information_weight``) it is 1 at 50%, 0.54 at 90%, 0.11 at 99%. A condition's
``effective_comparisons`` is the sum of these weights over the answers that involved it, at the
probabilities of the fitted scale: the number of 50/50 comparisons that would pin it down as well.

Where most compared pairs are near-unanimous (``NEAR_UNANIMOUS``: 90% or more of the answers one way)
and each pair was compared only a few times (``FEW_PER_PAIR``), the answers bound the distances only
from below and pwcmp's prior decides them; in simulation (``benchmarks/pairwise_simulation.py``, 4
answers per pair) the distances came out at about 60% of the truth. ``design_warning`` names such a
group: read its order, not its absolute JOD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from analysis.subjective.thurstone import SIGMA

NEAR_UNANIMOUS = 0.9  # share of a pair's answers one way from which it is "near-unanimous"
FEW_PER_PAIR = 15.0  # mean answers per compared pair below which a design is "sparse"
REGIME_SHARE = 0.3  # share of near-unanimous compared pairs that flags a sparse group
_INFORMATION_AT_ZERO = 2.0 / np.pi  # phi(0)^2 / (Phi(0) Phi(-0))


def information_weight(d: np.ndarray | float) -> np.ndarray:
    """Fisher information about a distance ``d`` (JOD) of one answer, relative to one at ``d = 0``."""
    x = np.asarray(d, dtype=float) / SIGMA
    log_info = -x * x - np.log(2.0 * np.pi) - special.log_ndtr(x) - special.log_ndtr(-x)
    return np.exp(log_info) / _INFORMATION_AT_ZERO


def effective_comparisons(counts: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per condition: answers that involved it, each weighted by ``information_weight`` at the
    distance of the fitted ``scores`` (``counts[i, j]`` = times ``i`` was preferred to ``j``)."""
    counts = np.asarray(counts, dtype=float)
    shown = counts + counts.T
    np.fill_diagonal(shown, 0.0)
    scores = np.asarray(scores, dtype=float)
    weight = information_weight(scores[:, None] - scores[None, :])
    return np.sum(shown * weight, axis=1)


@dataclass(frozen=True)
class GroupDesign:
    """How one group's comparisons are spread: ``pairs`` compared at least once, ``answers`` in all,
    how many of those pairs are ``near_unanimous`` and ``unanimous``, and whether that puts the group
    in the sparse, near-unanimous regime (``sparse_unanimous``)."""

    pairs: int
    answers: int
    near_unanimous: int
    unanimous: int
    sparse_unanimous: bool

    @property
    def per_pair(self) -> float:
        return self.answers / self.pairs if self.pairs else 0.0


def group_design(counts: np.ndarray) -> GroupDesign:
    """The comparison design of one group from its count matrix (see the module docstring)."""
    counts = np.asarray(counts, dtype=float)
    upper = np.triu_indices(counts.shape[0], 1)
    forward, backward = counts[upper], counts.T[upper]
    total = forward + backward
    compared = total > 0
    majority = np.maximum(forward, backward)[compared] / total[compared]
    pairs = int(compared.sum())
    answers = int(round(total.sum()))
    near = int(np.sum(majority >= NEAR_UNANIMOUS))
    unanimous = int(np.sum(majority == 1.0))
    sparse = pairs > 0 and answers / pairs < FEW_PER_PAIR and near >= REGIME_SHARE * pairs
    return GroupDesign(pairs, answers, near, unanimous, bool(sparse))


def design_warning(design: GroupDesign) -> str | None:
    """A warning for a group in the sparse, near-unanimous regime, or whose every compared pair is
    unanimous (answers that give an order but no distance), else None."""
    if design.pairs and design.unanimous == design.pairs:
        return (
            f"every compared pair ({design.pairs}) is unanimous: the answers give the order but no distance; "
            f"the JOD differences come from pwcmp's prior alone (with only two conditions, from where the "
            f"optimiser stops). Compare conditions closer in quality"
        )
    if not design.sparse_unanimous:
        return None
    return (
        f"{design.near_unanimous} of {design.pairs} compared pairs are near-unanimous "
        f"(>= {NEAR_UNANIMOUS:.0%} one way) with {design.per_pair:.1f} answers per pair: the distances rest "
        f"on pwcmp's prior, which shrinks them (to about 60% of the true JOD in simulation); read the "
        f"order, not the absolute JOD. Compare conditions closer in quality, or more often"
    )
