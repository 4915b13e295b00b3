"""Which pair of one scene's conditions to show next: balanced or active sampling.

- ``balanced_next_pair``: a pair compared least often so far (ties at random), sides at random, so
  every pair is compared about equally in random order.
- ``active_next_pair``: the idea of ASAP (Mikhailiuk, Wilmot, Perez-Ortiz, Yue and Mantiuk 2020,
  "Active sampling for pairwise comparisons via approximate message passing and information gain
  maximization", arXiv 2004.05691): show the pair whose answer is expected to change the posterior
  over the scale the most, measured as the expected Kullback-Leibler divergence between the
  posterior after and before the answer. Our posterior is a Gaussian (Laplace) approximation of the
  Thurstone Case V posterior (probit answers with SIGMA = 1.4826, so 1 JOD = 75% preference, and a
  N(0, PRIOR_SD^2) prior per condition; the hidden reference pinned at 0). An answer about (i, j)
  only informs the difference d = q_i - q_j, so its update is rank one along d and the KL of the
  whole posterior equals the KL of the marginal of d, which assumed-density filtering (the
  moment-matched probit update that TrueSkill and ASAP use) gives in closed form. All pairs are
  scored at once. The gain is weighted by ``information_weight`` of the pair's expected distance
  (``analysis.subjective.design``: 1 at 50% preference, 0.54 at 90%, 0.11 at 99%), so that trials go
  to pairs whose answers measure a distance rather than confirm an order nearly everyone agrees on:
  near-unanimous pairs leave pwcmp's JOD distances to its prior (issue 29, section 4).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import special

from analysis.subjective.design import information_weight
from analysis.subjective.thurstone import SIGMA
from analysis.subjective.types import Comparison

PRIOR_SD = 3.0  # JOD, prior spread of a condition's score before any answer
REFERENCE_SD = 0.01  # JOD, the hidden reference is known to sit at 0
_NEWTON_STEPS = 30


def _check(conditions: Sequence[str]) -> list[str]:
    conditions = list(conditions)
    if len(conditions) < 2:
        raise ValueError("need at least two conditions to form a pair")
    if len(set(conditions)) != len(conditions):
        raise ValueError("conditions must be distinct")
    return conditions


def balanced_next_pair(
    conditions: Sequence[str], counts: Mapping[frozenset, int], rng: np.random.Generator
) -> tuple[str, str]:
    """A least-compared pair (``counts[frozenset({a, b})]``, missing = 0; ties broken at random),
    returned with its sides in random order."""
    conditions = _check(conditions)
    pairs = list(itertools.combinations(conditions, 2))
    n = np.array([counts.get(frozenset(p), 0) for p in pairs])
    least = np.flatnonzero(n == n.min())
    a, b = pairs[int(rng.choice(least))]
    return (a, b) if rng.random() < 0.5 else (b, a)


def _inverse_mills(x: np.ndarray) -> np.ndarray:
    """phi(x) / Phi(x), stable for large negative x."""
    return np.exp(-0.5 * x * x - 0.5 * np.log(2 * np.pi) - special.log_ndtr(x))


def gaussian_posterior(n_conditions: int, wins: np.ndarray, prior_var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Laplace approximation (mean, covariance) of the Thurstone Case V posterior.

    ``wins[i, j]`` = answers preferring ``i`` to ``j``; prior N(0, diag(prior_var)). Newton's method
    on the log-concave log posterior; the covariance is the inverse Hessian at the mode.
    """
    i, j = np.nonzero(wins)
    k = wins[i, j]
    q = np.zeros(n_conditions)
    precision = np.diag(1.0 / prior_var)
    hessian = precision
    for _ in range(_NEWTON_STEPS):
        x = (q[i] - q[j]) / SIGMA
        lam = _inverse_mills(x)
        g_d = -k * lam / SIGMA
        w = k * lam * (x + lam) / SIGMA**2
        grad = precision @ q + np.bincount(i, g_d, n_conditions) - np.bincount(j, g_d, n_conditions)
        hessian = precision.copy()
        np.add.at(hessian, (i, i), w)
        np.add.at(hessian, (j, j), w)
        np.add.at(hessian, (i, j), -w)
        np.add.at(hessian, (j, i), -w)
        step = np.linalg.solve(hessian, grad)
        q = q - step
        if np.max(np.abs(step)) < 1e-6:
            break
    return q, np.linalg.inv(hessian)


def expected_information_gain(mean: np.ndarray, cov: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Expected KL(posterior after || before) of comparing ``i`` with ``j`` (ASAP's criterion).

    Marginal of d = q_i - q_j is N(m, v); answer "i" has probability Phi(z), z = m / sqrt(SIGMA^2 + v),
    and moment matching gives the updated N(m', v'); KL = (v'/v + (m' - m)^2 / v - 1 + ln(v / v')) / 2.
    """
    m = mean[i] - mean[j]
    v = np.maximum(cov[i, i] + cov[j, j] - 2 * cov[i, j], 1e-12)
    s = np.sqrt(SIGMA**2 + v)
    gain = np.zeros_like(m)
    for sign in (1.0, -1.0):
        z = sign * m / s
        lam = _inverse_mills(z)
        prob = special.ndtr(z)
        m_new = m + sign * v * lam / s
        v_new = np.maximum(v - v * v * lam * (z + lam) / (s * s), 1e-15)
        kl = 0.5 * (v_new / v + (m_new - m) ** 2 / v - 1.0 + np.log(v / v_new))
        gain += prob * kl
    return gain


def measurable_gain(mean: np.ndarray, cov: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``expected_information_gain`` times ``information_weight`` of the expected distance
    ``mean[i] - mean[j]``: the gain of a pair that nearly everyone would answer the same way counts
    less, because its answer bounds the distance from one side only."""
    return expected_information_gain(mean, cov, i, j) * information_weight(mean[i] - mean[j])


def active_next_pair(
    conditions: Sequence[str],
    comparisons: Sequence[Comparison],
    rng: np.random.Generator,
    *,
    references: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The pair of ``conditions`` with the largest expected information gain over the current
    posterior (ASAP, Mikhailiuk et al. 2020), weighted towards pairs whose expected preference is
    far from unanimous (``measurable_gain``; see the module docstring). ``comparisons`` may hold other
    scenes' answers: only those between two of ``conditions`` count. A condition that is a value of
    ``references`` is pinned at 0 JOD. Ties are broken at random; sides are in random order.
    """
    conditions = _check(conditions)
    index = {c: x for x, c in enumerate(conditions)}
    n = len(conditions)
    wins = np.zeros((n, n))
    for c in comparisons:
        if c.a in index and c.b in index and c.a != c.b:
            if c.a_selected:
                wins[index[c.a], index[c.b]] += 1
            else:
                wins[index[c.b], index[c.a]] += 1
    pinned = set((references or {}).values())
    prior_var = np.array([REFERENCE_SD**2 if c in pinned else PRIOR_SD**2 for c in conditions])
    mean, cov = gaussian_posterior(n, wins, prior_var)
    i, j = np.triu_indices(n, 1)
    gain = measurable_gain(mean, cov, i, j)
    best = np.flatnonzero(gain >= gain.max() * (1 - 1e-9))
    pick = int(rng.choice(best))
    a, b = conditions[i[pick]], conditions[j[pick]]
    return (a, b) if rng.random() < 0.5 else (b, a)
