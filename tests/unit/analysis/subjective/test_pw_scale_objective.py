"""pw_scale's default (gaussian) prior is exact: our optimum is the optimum of pwcmp's objective, written
out here a second time, independently and slowly, the way pw_scale.m (mantiuk/pwcmp @ 48c9192) reads."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from analysis.subjective.thurstone import PwcmpObjective, link_components, pw_scale, thurstone_case_v

# A sparse design in the regime that matters: 1-5 answers per pair, unanimous pairs, two pairs never
# compared (rows preferred over columns; simulated Thurstone observers, truth 0, -1.5 ... -6.7 JOD).
SPARSE = np.array(
    [
        [0, 4, 3, 5, 2, 0],
        [1, 0, 0, 5, 5, 2],
        [1, 0, 0, 0, 2, 1],
        [0, 0, 2, 0, 2, 0],
        [0, 0, 1, 0, 0, 1],
        [0, 0, 0, 0, 0, 0],
    ],
    dtype=float,
)


def pwcmp_objective(
    q,
    counts,
    *,
    sigma=1.4826,
    ordered=True,
    shift_unanimous=True,
    offset=0.1,
    normalise=True,
    link=True,
    prior="gaussian",
):
    """pw_scale.m's exp_prob(q) under mean0, term by term; the keywords switch one detail off."""
    n_cond = len(q)
    d_sum = counts + counts.T
    compared = d_sum > 0
    if not ordered:
        compared = np.triu(compared, 1)
    both = (counts > 0) & (counts.T > 0)
    unanimous = (d_sum > 0) & ~both
    k_prior = counts.copy()
    if shift_unanimous:
        k_prior[unanimous & (counts == 0)] = 1
        k_prior[unanimous & (counts != 0)] -= 1
    prob_matrix = stats.norm.cdf(q[:, None] - q[None, :], 0, sigma)
    prob = prob_matrix[compared]
    likelihood = prob ** counts[compared] * (1 - prob) ** counts.T[compared]
    if prior == "gaussian":
        kernel = np.zeros(prob.size)
        for e, (z, h) in enumerate(zip(*np.nonzero(compared))):
            k, n = k_prior[z, h], d_sum[z, h]
            aux = prob**k * (1 - prob) ** (n - k)
            if not link:  # each pair's prior from its own answers only
                kernel[e] += aux[e]
            else:
                kernel += aux / aux.sum() if normalise else aux
    elif prior == "bounded":
        r = q.max() - q.min() + 1
        kernel = np.maximum(both[compared].astype(float), 1 / r - np.abs(counts[compared]) / r**2)
    else:
        kernel = np.ones(prob.size)
    assert n_cond == counts.shape[0]
    return -np.sum(np.log(likelihood) + np.log(kernel + offset)) + 0.01 * np.mean(q) ** 2


def _central_gradient(f, q, h=1e-5):
    return np.array([(f(q + h * e) - f(q - h * e)) / (2 * h) for e in np.eye(len(q))])


@pytest.mark.parametrize("prior", ["gaussian", "bounded", "none"])
def test_our_objective_is_pwcmps_objective(prior):
    rng = np.random.default_rng(0)
    for _ in range(3):
        q = rng.normal(0, 2, SPARSE.shape[0])
        ours = PwcmpObjective(SPARSE[None], prior, "mean0").evaluate(q[None])[0][0]
        assert ours == pytest.approx(pwcmp_objective(q, SPARSE, prior=prior), rel=1e-12)


def test_gaussian_prior_optimum_is_the_optimum_of_pwcmps_objective():
    q = pw_scale(SPARSE)  # prior="gaussian", regularization="mean0": pwcmp's defaults
    objective = lambda z: pwcmp_objective(z, SPARSE)  # noqa: E731
    assert np.max(np.abs(_central_gradient(objective, q))) < 1e-6
    rng = np.random.default_rng(1)
    for _ in range(20):
        assert objective(q + rng.normal(0, 1e-3, q.size)) > objective(q)
    polished = optimize.minimize(
        objective, q, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-13, "maxiter": 4000}
    ).x
    assert np.max(np.abs(polished - q)) < 1e-5
    assert abs(q.mean()) < 1e-9
    # fix0 holds a condition at 0 and gives the same differences; the batched solver agrees
    fixed = pw_scale(SPARSE, regularization="fix0", reference=2)
    assert fixed[2] == 0.0 and np.allclose(fixed - fixed.mean(), q, atol=1e-7)
    assert np.allclose(thurstone_case_v(SPARSE) - q, 0, atol=1e-7)


@pytest.mark.parametrize(
    "detail",
    [
        {"ordered": False},
        {"shift_unanimous": False},
        {"offset": 0.0},
        {"sigma": 1.0},
        {"normalise": False},
        {"link": False},
    ],
)
def test_each_detail_of_pwcmps_prior_moves_this_scale_by_tenths_of_a_jod(detail):
    """The test above can fail: getting any one detail wrong moves the optimum by >= 0.3 JOD here."""
    q = pw_scale(SPARSE)
    other = optimize.minimize(lambda z: pwcmp_objective(z, SPARSE, **detail), q, method="BFGS").x
    assert np.max(np.abs(other - other.mean() - q)) > 0.3


def test_disconnected_groups_are_linked_as_pwcmp_links_them():
    counts = np.zeros((5, 5))
    counts[0, 1], counts[1, 0] = 3, 1  # component {0, 1}
    counts[2, 3], counts[3, 4], counts[4, 2] = 2, 2, 1  # component {2, 3, 4}
    linked, n_comp = link_components(counts)
    assert n_comp == 2
    # pwcmp ties the best of each component (highest ISO 20462 arcsine score): 0 and 2, one answer each way
    assert linked[0, 2] == linked[2, 0] == 1 and (linked - counts).sum() == 2
    q = pw_scale(counts)
    assert np.max(np.abs(_central_gradient(lambda z: pwcmp_objective(z, linked), q))) < 1e-6


def test_two_conditions_with_unanimous_answers_stop_finite_where_the_prior_is_flat():
    q = pw_scale(np.array([[0.0, 6.0], [0.0, 0.0]]), regularization="fix0")
    assert -12 < q[1] < -5  # the optimum is at infinity; the optimiser stops on its gradient tolerance
