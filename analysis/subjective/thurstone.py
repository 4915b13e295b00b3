"""Thurstone Case V scaling of pairwise comparisons in JOD: a port of pwcmp's ``pw_scale``.

Reimplements ``pw_scale.m`` of pwcmp (Perez-Ortiz and Mantiuk 2017, "A practical guide and software
for analysing pairwise comparison experiments", arXiv 1712.03686; github.com/mantiuk/pwcmp at commit
48c9192) from reading its code; our own code. It reproduces pwcmp's published ex3 scale to about
5e-6 JOD (``tests/unit/analysis/subjective/test_pwcmp_ex3.py``). What ``pw_scale`` does, step by step:

- ``counts[i, j]`` = times ``i`` was preferred to ``j``. Model: ``P(i over j) = Phi((q_i - q_j) / SIGMA)``
  with ``SIGMA = 1.4826``, so that a difference of 1 JOD means 75% preference.
- A disconnected comparison graph is linked first (``link_components``): in each component the
  condition with the highest ISO 20462 arcsine score is tied, one answer each way, to those of the
  other components.
- The negative log-posterior runs over the *ordered* pairs ``e = (i, j)`` with
  ``n_e = counts[i, j] + counts[j, i] > 0``: both orders of a compared pair enter the likelihood and
  the prior, so each unordered pair counts twice::

      -sum_e [ counts[i, j] log p_e + counts[j, i] log(1 - p_e) ] - sum_e log(prior_e + 0.1) + reg

  with ``p_e = Phi((q_i - q_j) / SIGMA)``. The ``+ 0.1`` keeps a pair whose prior vanishes finite.
- ``prior="gaussian"`` (pwcmp's default): ``prior_e = sum_f L_f(p_e) / sum_e' L_f(p_e')`` over the
  ordered compared pairs ``f``, where ``L_f(p) = p^k_f (1 - p)^(n_f - k_f)`` is the likelihood of
  ``f``'s answers at probability ``p``: each pair's answers are spread over the discrete set of the
  model's pair probabilities, so every pair of a group takes part in every pair's prior and the
  prior links all conditions of a group. ``k_f`` is ``counts`` with unanimous pairs moved one
  answer towards the middle (0 -> 1, ``n_f`` -> ``n_f - 1``), which bounds distances that unanimous
  answers alone would send to infinity.
- ``prior="bounded"``: ``prior_e = 1`` for a pair with answers both ways; for a unanimous pair
  ``max(0, 1/r - counts[i, j]/r^2)`` with ``r = max(q) - min(q) + 1`` (pwcmp's formula, which uses
  the pair's count, not its distance). ``prior="none"``: ``prior_e = 1``.
- ``regularization="mean0"`` (pwcmp's default) adds ``0.01 mean(q)^2``; every other term depends
  only on differences, so its optimum has mean 0 exactly. ``"fix0"`` holds one condition
  (``reference``, pwcmp: the first) at 0. Both give the same differences.
- pwcmp minimises with ``fminunc`` from ``q = 0``; ``pw_scale`` here uses ``scipy.optimize.minimize``
  (``trust-exact`` on the exact gradient and Hessian) from ``q = 0``, and ``thurstone_case_v`` a
  batched damped Newton on the same Hessian for stacks of bootstrap or leave-one-out matrices.
  Where neither answers nor prior bound a distance (two conditions with unanimous answers: the
  gaussian prior is then flat) the optimum lies at infinity and the optimisers stop, as fminunc
  does, where the gradient falls below their tolerance (about 9.6 JOD);
  ``analysis.subjective.design`` flags such groups.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

SIGMA = 1.4826  # 1 / norm.ppf(0.75): Phi(1 / SIGMA) = 0.75
PRIOR_OFFSET = 0.1  # pwcmp: log(prior + 0.1)
MEAN0_WEIGHT = 0.01  # pwcmp: 0.01 * mean(q)^2
PRIORS = ("gaussian", "bounded", "none")
REGULARIZATIONS = ("mean0", "fix0")
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_GTOL = 1e-9  # gradient tolerance, relative to the gradient at the start (fminunc's is 1e-6)


def components(counts: np.ndarray) -> np.ndarray:
    """Connected-component label of each condition in the comparison graph (any answer = an edge)."""
    graph = (counts + counts.T) > 0
    n = graph.shape[0]
    label = np.full(n, -1)
    current = 0
    for start in range(n):
        if label[start] >= 0:
            continue
        stack = [start]
        label[start] = current
        while stack:
            node = stack.pop()
            for other in np.flatnonzero(graph[node]):
                if label[other] < 0:
                    label[other] = current
                    stack.append(other)
        current += 1
    return label


def arcsine_scores(counts: np.ndarray) -> np.ndarray:
    """pwcmp's initial estimate (ISO 20462 inverse cumulative distribution): for each condition ``j``,
    ``sum_i -(12/pi asin(sqrt(M[i, j])) - 3) / 2`` with ``M[i, j]`` the share of answers preferring
    ``i`` to ``j`` (0.5 where the pair was never compared). Higher is better."""
    total = counts + counts.T
    share = np.divide(counts, total, out=np.full(counts.shape, 0.5), where=total > 0)
    return np.sum(-(12.0 / np.pi * np.arcsin(np.sqrt(share)) - 3.0) / 2.0, axis=0)


def link_components(counts: np.ndarray) -> tuple[np.ndarray, int]:
    """Counts with the components of a disconnected graph tied weakly; returns (counts, n_components).

    As pwcmp's ``pw_scale``: in each component the condition with the highest ``arcsine_scores``
    (the first such) is linked to the others' by one answer each way (a tie).
    """
    counts = np.asarray(counts, dtype=float)
    label = components(counts)
    n_comp = int(label.max()) + 1 if label.size else 0
    if n_comp <= 1:
        return counts, n_comp
    initial = arcsine_scores(counts)
    best = [int(np.flatnonzero(label == c)[np.argmax(initial[label == c])]) for c in range(n_comp)]
    linked = counts.copy()
    for x, ia in enumerate(best):
        for ib in best[x + 1 :]:
            linked[ia, ib] = linked[ib, ia] = 1.0
    return linked, n_comp


class PwcmpObjective:
    """pwcmp's negative log-posterior of a stack of independent scales, with its exact gradient.

    ``counts`` is (B, N, N): B independent problems (e.g. bootstrap resamples) over the same N
    conditions, each already linked (``link_components``). Pairs are the ordered pairs compared in
    any problem; a pair one problem never compared takes no part in its likelihood or prior.
    ``reference``: the index held at 0 under ``fix0`` (ignored under ``mean0``).
    """

    def __init__(self, counts: np.ndarray, prior: str = "gaussian", regularization: str = "mean0", reference: int = 0):
        if prior not in PRIORS:
            raise ValueError(f"unknown prior {prior!r}; use one of {', '.join(PRIORS)}")
        if regularization not in REGULARIZATIONS:
            raise ValueError(f"unknown regularization {regularization!r}; use one of {', '.join(REGULARIZATIONS)}")
        counts = np.asarray(counts, dtype=float)
        b, n, _ = counts.shape
        total = counts + counts.transpose(0, 2, 1)
        mask = total.sum(axis=0) > 0
        np.fill_diagonal(mask, False)
        self.i, self.j = np.nonzero(mask)  # ordered pairs: (i, j) and (j, i) both
        self.k = counts[:, self.i, self.j]  # (B, E) answers preferring i
        self.m = counts[:, self.j, self.i]  # (B, E) answers preferring j
        n_e = self.k + self.m
        self.compared = n_e > 0
        self.batch, self.n = b, n
        self.prior, self.regularization = prior, regularization
        self.reference = reference if regularization == "fix0" else None
        self.incidence = np.zeros((self.i.size, n))  # d = q_i - q_j as a matrix product
        self.incidence[np.arange(self.i.size), self.i] = 1.0
        self.incidence[np.arange(self.i.size), self.j] = -1.0
        self.flat = (self.i * n + self.i, self.j * n + self.j, self.i * n + self.j, self.j * n + self.i)
        both_ways = self.compared & (self.k > 0) & (self.m > 0)
        self.unanimous = self.compared & ~both_ways
        if prior == "gaussian" and self.i.size:
            # pwcmp's D_wUA: unanimous counts moved one answer towards the middle (prior only)
            k_prior = np.where(self.unanimous & (self.k == 0), 1.0, np.where(self.unanimous, self.k - 1.0, self.k))
            # one answer pattern per compared ordered pair of each problem (columns f of the kernel)
            self.pk = np.where(self.compared, k_prior, 0.0)[:, None, :]  # exponent of p, (B, 1, F)
            self.pm = np.where(self.compared, n_e - k_prior, 0.0)[:, None, :]  # exponent of 1 - p
            self.pw = self.compared.astype(float)  # a pattern's weight: 1 where that pair was compared
        if prior == "bounded":
            self.bounded_count = np.where(self.unanimous, self.k, 0.0)  # pwcmp: abs(D(nnz_d))

    def evaluate(self, q: np.ndarray, *, rows: np.ndarray | None = None, hessian: bool = False):
        """Per-problem values (B,) and gradients (B, N) at scores ``q`` (B, N); with ``hessian`` also
        the exact Hessians (B, N, N). ``rows``: evaluate only these problems (``q`` then holds just
        their scores).

        The gaussian prior's Hessian is cheap in closed form: with ``s_u`` the softmax over pairs of
        answer pattern ``u`` (weight ``w_u``), ``g = dL/dd`` and ``c = 1 / (prior + 0.1)``, the Hessian
        of ``-sum log(prior + 0.1)`` in pair distances is ``J' C^2 J - sum_u w_u H_u``, where ``J`` is the
        prior's Jacobian and ``H_u = diag(alpha_u) - beta_u gamma_u' - gamma_u beta_u'`` the Hessian of
        ``c . s_u`` (``beta = s g``, ``gamma = s g (c - c . s_u)``, ``alpha = s (c - c . s_u)(g^2 + L'')``).
        """
        sel = slice(None) if rows is None else rows
        k, m, compared = self.k[sel], self.m[sel], self.compared[sel]
        batch = len(q)
        d = q[:, self.i] - q[:, self.j]  # (B, E)
        x = d / SIGMA
        logp = special.log_ndtr(x)
        log1mp = special.log_ndtr(-x)
        logpdf = -0.5 * x * x - _LOG_SQRT_2PI
        lam = np.exp(logpdf - logp)  # phi / Phi
        lam_bar = np.exp(logpdf - log1mp)  # phi / (1 - Phi)
        h = lam / SIGMA  # d log p / d d
        hbar = lam_bar / SIGMA  # -d log(1 - p) / d d
        dh = -lam * (x + lam) / SIGMA**2  # d h / d d
        dhbar = lam_bar * (lam_bar - x) / SIGMA**2  # d hbar / d d
        value = -np.sum(k * logp + m * log1mp, axis=1)
        grad_d = -(k * h - m * hbar)
        curv_d = -(k * dh - m * dhbar)  # diagonal of the Hessian in pair distances
        grad_extra = np.zeros_like(q)
        hess_extra = np.zeros((batch, self.n, self.n)) if hessian else None
        if self.prior == "gaussian" and self.i.size:
            # log p^k (1-p)^(n-k) of every pair (rows) under every observed answer pattern (columns)
            pk, pm = self.pk[sel], self.pm[sel]
            lmat = logp[:, :, None] * pk + log1mp[:, :, None] * pm  # (B, E, F)
            lmat = np.where(compared[:, :, None], lmat, -np.inf)
            lmat -= lmat.max(axis=1, keepdims=True)
            soft = np.exp(lmat)
            soft /= soft.sum(axis=1, keepdims=True)  # normalised over the pairs, per answer pattern
            weight = self.pw[sel][:, None, :]  # (B, 1, F)
            prior = np.sum(soft * weight, axis=2)
            value -= np.sum(np.where(compared, np.log(prior + PRIOR_OFFSET), 0.0), axis=1)
            c = np.where(compared, 1.0 / (prior + PRIOR_OFFSET), 0.0)
            g = h[:, :, None] * pk - hbar[:, :, None] * pm  # dL/dd, (B, E, F)
            beta = soft * g
            cb = np.einsum("be,beu->bu", c, soft)[:, None, :]  # c . s_u
            r = np.sum(beta * weight, axis=2)
            grad_d -= c * r - np.sum(beta * weight * cb, axis=2)
            if hessian:
                gamma = beta * (c[:, :, None] - cb)
                ddl = dh[:, :, None] * pk - dhbar[:, :, None] * pm
                curv_d -= np.sum(weight * soft * (c[:, :, None] - cb) * (g * g + ddl), axis=2)
                jac = r[:, :, None] * self.incidence - (soft * weight) @ (np.swapaxes(beta, 1, 2) @ self.incidence)
                hess_extra += np.swapaxes(jac, 1, 2) @ (c[:, :, None] ** 2 * jac)
                bq = self.incidence.T @ (beta * weight)  # (B, N, F)
                gq = self.incidence.T @ gamma
                cross = bq @ np.swapaxes(gq, 1, 2)
                hess_extra += cross + np.swapaxes(cross, 1, 2)
        elif self.prior == "bounded" and self.i.size:
            r = (q.max(axis=1) - q.min(axis=1) + 1.0)[:, None]  # pwcmp's n_e
            count = self.bounded_count[sel]
            raw = 1.0 / r - count / (r * r)
            positive = self.unanimous[sel] & (raw > 0)
            prior = np.where(self.unanimous[sel], np.maximum(raw, 0.0), 1.0)
            value -= np.sum(np.where(compared, np.log(prior + PRIOR_OFFSET), 0.0), axis=1)
            df = np.where(positive, -1.0 / r**2 + 2.0 * count / r**3, 0.0)
            ddf = np.where(positive, 2.0 / r**3 - 6.0 * count / r**4, 0.0)
            dvalue = -np.sum(df / (prior + PRIOR_OFFSET), axis=1)
            ddvalue = -np.sum(ddf / (prior + PRIOR_OFFSET) - (df / (prior + PRIOR_OFFSET)) ** 2, axis=1)
            span = np.zeros_like(q)  # d range / d q
            span[np.arange(batch), q.argmax(axis=1)] += 1.0
            span[np.arange(batch), q.argmin(axis=1)] -= 1.0
            grad_extra += dvalue[:, None] * span
            if hessian:
                hess_extra += ddvalue[:, None, None] * span[:, :, None] * span[:, None, :]
        elif self.prior == "none":
            value -= np.sum(compared, axis=1) * np.log(1.0 + PRIOR_OFFSET)
        grad = grad_d @ self.incidence + grad_extra
        if self.reference is None:
            mean = q.mean(axis=1)
            value = value + MEAN0_WEIGHT * mean * mean
            grad = grad + 2.0 * MEAN0_WEIGHT * mean[:, None] / self.n
        else:
            grad[:, self.reference] = 0.0
        if not hessian:
            return value, grad
        n2 = self.n * self.n
        offsets = (np.arange(batch) * n2)[:, None]
        index = np.concatenate([offsets + f for f in self.flat], 1)
        weights = np.concatenate([curv_d, curv_d, -curv_d, -curv_d], 1)
        # float64: bincount with float weights (numpy's stubs type bincount as int)
        hess: np.ndarray = np.bincount(index.ravel(), weights.ravel(), batch * n2).reshape(batch, self.n, self.n)
        assert hess_extra is not None  # allocated above whenever hessian is set
        hess += hess_extra
        if self.reference is None:
            hess += 2.0 * MEAN0_WEIGHT / self.n**2
        else:
            hess[:, self.reference, :] = 0.0
            hess[:, :, self.reference] = 0.0
            hess[:, self.reference, self.reference] = 1.0
        return value, grad, hess


def _check_counts(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=float)
    if counts.ndim not in (2, 3) or counts.shape[-1] != counts.shape[-2]:
        raise ValueError("the comparison matrix must be square")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("comparison counts must be finite and non-negative")
    return counts


def pw_scale(
    counts: np.ndarray,
    *,
    prior: str = "gaussian",
    regularization: str = "mean0",
    reference: int = 0,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """JOD score of each condition from one comparison-count matrix, as pwcmp's ``pw_scale``.

    ``counts[i, j]`` = times ``i`` was preferred to ``j``. Links a disconnected graph, then minimises
    pwcmp's negative log-posterior (module docstring) with ``scipy.optimize.minimize`` (trust-exact,
    exact gradient and Hessian) from ``q = 0`` as pwcmp does (or from ``start``). ``regularization="fix0"``
    holds ``reference`` at 0; ``"mean0"`` gives mean 0.
    """
    counts = _check_counts(counts)
    if counts.ndim != 2:
        raise ValueError("pw_scale takes one matrix; use thurstone_case_v for a stack")
    n = counts.shape[0]
    linked, _ = link_components(counts)
    objective = PwcmpObjective(linked[None], prior, regularization, reference)
    if n <= 1:
        return np.zeros(n)
    fixed = objective.reference
    q0 = np.zeros(n) if start is None else np.asarray(start, dtype=float).copy()
    if fixed is not None:
        q0 -= q0[fixed]

    def full(free: np.ndarray) -> np.ndarray:
        return free if fixed is None else np.insert(free, fixed, 0.0)

    def fun(free: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = objective.evaluate(full(free)[None])
        grad = grad[0] if fixed is None else np.delete(grad[0], fixed)
        return float(value[0]), grad

    def hess(free: np.ndarray) -> np.ndarray:
        matrix = objective.evaluate(full(free)[None], hessian=True)[2][0]
        return matrix if fixed is None else np.delete(np.delete(matrix, fixed, 0), fixed, 1)

    free0 = q0 if fixed is None else np.delete(q0, fixed)
    g0 = np.max(np.abs(fun(free0)[1]))
    result = optimize.minimize(
        fun, free0, jac=True, hess=hess, method="trust-exact", options={"gtol": _GTOL * max(1.0, g0), "maxiter": 1000}
    )
    return full(result.x)


def _newton_step(grad: np.ndarray, hess: np.ndarray) -> np.ndarray:
    """H^-1 g with H's eigenvalues taken in absolute value and kept off zero, so that the step
    descends where pwcmp's prior makes the objective non-convex (a saddle-free Newton step)."""
    eigval, eigvec = np.linalg.eigh(hess)
    floor = 1e-10 * np.maximum(1.0, np.abs(eigval).max(axis=1, keepdims=True))
    inverse = 1.0 / np.maximum(np.abs(eigval), floor)
    return np.einsum("bij,bj->bi", eigvec, inverse * np.einsum("bji,bj->bi", eigvec, grad))


def _newton(objective: PwcmpObjective, q: np.ndarray, *, max_steps: int = 100) -> np.ndarray:
    """Batched damped Newton on the exact Hessian: each problem steps along ``_newton_step`` with its
    own backtracking line search, and stops when its gradient falls below the tolerance (relative
    to the start, as ``pw_scale``), when the step's predicted decrease is below the value's rounding
    error, or when no step lowers its value. Only the problems still moving are evaluated."""
    q = q.copy()
    rows = np.arange(len(q))
    value, grad, hess = objective.evaluate(q, hessian=True)
    gtol = _GTOL * np.maximum(1.0, np.max(np.abs(grad), axis=1))
    for _ in range(max_steps):
        step = _newton_step(grad, hess)
        slope = np.sum(grad * step, axis=1)
        # converged: gradient below tolerance, or a predicted decrease below the value's rounding
        resolution = 64 * np.finfo(float).eps * np.maximum(1.0, np.abs(value))
        keep = (np.max(np.abs(grad), axis=1) > gtol[rows]) & (slope > resolution)
        if not keep.any():
            break
        rows, value, grad, step, slope = rows[keep], value[keep], grad[keep], step[keep], slope[keep]
        current = q[rows]
        t = np.ones(len(rows))
        for _ in range(30):
            new_value, _ = objective.evaluate(current - t[:, None] * step, rows=rows)
            ok = (new_value <= value - 1e-4 * t * slope) | (t == 0)
            if ok.all():
                break
            t = np.where(ok, t, t * 0.5)
        t = np.where(ok, t, 0.0)
        moved = t > 0
        rows, current, step, t = rows[moved], current[moved], step[moved], t[moved]
        if not rows.size:
            break
        q[rows] = current - t[:, None] * step
        value, grad, hess = objective.evaluate(q[rows], rows=rows, hessian=True)
    return q


def thurstone_case_v(
    counts: np.ndarray,
    *,
    prior: str = "gaussian",
    fixed: int | None = None,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """JOD scores of a stack of already-linked comparison-count matrices, pwcmp's objective each.

    ``counts`` (B, N, N) fits B independent scales in one batched Newton run and returns (B, N); one
    (N, N) matrix returns (N,). ``fixed``: index held at 0 (pwcmp ``fix0``), else ``mean0``.
    The graphs must be connected (``link_components``). ``start``: a warm start of the output's
    shape (or of one row); pwcmp starts from 0.
    """
    counts = _check_counts(counts)
    single = counts.ndim == 2
    if single:
        counts = counts[None]
    if prior not in PRIORS:
        raise ValueError(f"unknown prior {prior!r}; use one of {', '.join(PRIORS)}")
    b, n, _ = counts.shape
    if n <= 1:
        out = np.zeros((b, n))
        return out[0] if single else out
    objective = PwcmpObjective(counts, prior, "mean0" if fixed is None else "fix0", fixed or 0)
    q0 = np.zeros((b, n)) if start is None else np.broadcast_to(np.asarray(start, dtype=float), (b, n)).copy()
    if fixed is not None:
        q0 = q0 - q0[:, fixed : fixed + 1]
    out = _newton(objective, q0)
    return out[0] if single else out
