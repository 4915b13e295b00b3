"""Thurstone Case V maximum-likelihood scaling of a pairwise comparison matrix, in JOD.

Follows the model of pwcmp's ``pw_scale`` (Perez-Ortiz and Mantiuk 2017, "A practical guide and
software for analysing pairwise comparison experiments", arXiv 1712.03686); our own code.

- Model: condition ``i`` is chosen over ``j`` with probability ``Phi((q_i - q_j) / SIGMA)``, with
  ``SIGMA = 1 / Phi^-1(0.75) = 1.4826`` so that a difference of 1 JOD means 75% preference.
- ``counts[i, j]`` = how often ``i`` was chosen over ``j``.
- ``prior="gaussian"``: pwcmp's distance prior, the normalised likelihood of each compared pair's
  model distance under every observed answer pattern (unanimous patterns shifted one answer towards
  the middle, as pwcmp does), added as ``log(prior + 0.1)`` per pair; plus a weak zero-mean Gaussian
  on each compared distance (SD ``DISTANCE_PRIOR_SD`` JOD) so that unanimous answers stay finite even
  when only two conditions are compared (where pwcmp's prior is flat). ``prior="none"``: plain ML.
- Gauge: ``fixed=k`` fixes condition ``k`` at 0 JOD (pwcmp's ``fix0``); ``fixed=None`` adds pwcmp's
  ``mean0`` regulariser ``0.01 * mean(q)^2``.
- Disconnected comparison graphs: ``link_components`` adds one tie between the best-scoring
  conditions of each component (pwcmp's patch); the caller reports it.
"""
from __future__ import annotations

import numpy as np
from scipy import special

SIGMA = 1.4826  # 1 / norm.ppf(0.75): Phi(1 / SIGMA) = 0.75
DISTANCE_PRIOR_SD = 6.0  # JOD; weak, only binds where answers are unanimous
_PRIOR_FLOOR = 0.1  # pwcmp: log(prior + 0.1)
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
PRIORS = ("gaussian", "none")


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


def link_components(counts: np.ndarray) -> tuple[np.ndarray, int]:
    """Counts with the components of a disconnected graph tied weakly; returns (counts, n_components).

    As pwcmp's ``pw_scale``: in each component the condition with the highest initial score (the
    ISO 20462 arcsine estimate) is linked to the others' by one answer each way (a tie).
    """
    label = components(counts)
    n_comp = int(label.max()) + 1 if label.size else 0
    if n_comp <= 1:
        return counts, n_comp
    total = counts + counts.T
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, counts / np.where(total > 0, total, 1), 0.5)
    initial = np.sum(-(12.0 / np.pi * np.arcsin(np.sqrt(share)) - 3.0) / 2.0, axis=0)
    best = [int(np.flatnonzero(label == c)[np.argmax(initial[label == c])]) for c in range(n_comp)]
    linked = counts.astype(float).copy()
    for x, ia in enumerate(best):
        for ib in best[x + 1 :]:
            linked[ia, ib] += 1
            linked[ib, ia] += 1
    return linked, n_comp


class _Objective:
    """Negative log posterior of a batch of independent scales and its gradient, vectorised.

    ``counts`` is (B, N, N): B independent problems (e.g. bootstrap resamples) over the same N
    conditions; the value is their sum, so one optimiser run fits them all. Pairs are those compared
    in any problem; a pair a problem never compared takes no part in its likelihood or prior.
    """

    def __init__(self, counts: np.ndarray, prior: str, fixed: int | None):
        b, n, _ = counts.shape
        total = counts + counts.transpose(0, 2, 1)
        mask = total.sum(axis=0) > 0
        np.fill_diagonal(mask, False)
        self.i, self.j = np.nonzero(mask)  # ordered pairs, both directions (as pwcmp)
        self.k = counts[:, self.i, self.j]  # (B, E)
        self.n_trials = total[:, self.i, self.j]
        self.compared = self.n_trials > 0
        self.batch, self.n = b, n
        self.incidence = np.zeros((self.i.size, n))  # d = q_i - q_j as a matrix product
        self.incidence[np.arange(self.i.size), self.i] = 1.0
        self.incidence[np.arange(self.i.size), self.j] = -1.0
        self.flat_ii, self.flat_jj = self.i * n + self.i, self.j * n + self.j
        self.flat_ij, self.flat_ji = self.i * n + self.j, self.j * n + self.i
        self.prior = prior
        self.fixed = fixed
        if prior == "gaussian" and self.i.size:
            k_shift = self.k.copy()
            k_shift[self.compared & (self.k == 0)] = 1.0
            k_shift[self.compared & (self.k == self.n_trials) & (self.k > 0)] -= 1.0
            rows = np.stack([k_shift[self.compared], self.n_trials[self.compared]], 1)
            patterns, inverse = np.unique(rows, axis=0, return_inverse=True)
            self.pk = patterns[:, 0]
            self.pnk = patterns[:, 1] - patterns[:, 0]
            weight = np.zeros((b, len(patterns)))  # how often each answer pattern occurs per problem
            np.add.at(weight, (np.nonzero(self.compared)[0], inverse.ravel()), 1.0)
            self.pw = weight

    def full(self, free: np.ndarray) -> np.ndarray:
        q = free.reshape(self.batch, -1)
        if self.fixed is None:
            return q
        return np.insert(q, self.fixed, 0.0, axis=1)

    def evaluate(self, q: np.ndarray, *, hessian: bool = False, rows: np.ndarray | None = None):
        """Per-problem values (B,), gradients (B, N) and, if asked, a positive-definite Hessian
        approximation (B, N, N): the exact one of the likelihood and the distance prior (pwcmp's
        pattern prior is left out of it; the line search in ``_newton`` accounts for the whole value).
        ``rows``: evaluate only these problems (``q`` then holds just their scores).
        """
        sel = slice(None) if rows is None else rows
        k, n_trials, compared = self.k[sel], self.n_trials[sel], self.compared[sel]
        batch = len(q)
        d = q[:, self.i] - q[:, self.j]  # (B, E)
        x = d / SIGMA
        logp = special.log_ndtr(x)
        log1mp = special.log_ndtr(-x)
        logpdf = -0.5 * x * x - _LOG_SQRT_2PI
        lam = np.exp(logpdf - logp)  # phi / Phi
        lam_bar = np.exp(logpdf - log1mp)
        h = lam / SIGMA  # d log p / d d
        hbar = lam_bar / SIGMA  # -d log(1-p) / d d
        nk = n_trials - k
        value = -np.sum(k * logp + nk * log1mp, axis=1)
        grad_d = -(k * h - nk * hbar)
        curv = (k * lam * (x + lam) + nk * lam_bar * (lam_bar - x)) / SIGMA**2
        if self.prior == "gaussian" and self.i.size:
            # log p^k (1-p)^(n-k) of every pair (rows) under every observed answer pattern (columns)
            lmat = logp[:, :, None] * self.pk + log1mp[:, :, None] * self.pnk  # (B, E, U)
            lmat = np.where(compared[:, :, None], lmat, -np.inf)
            lmat -= lmat.max(axis=1, keepdims=True)
            soft = np.exp(lmat)
            soft /= soft.sum(axis=1, keepdims=True)  # normalised over pairs, per answer pattern
            prior = np.einsum("beu,bu->be", soft, self.pw[sel])
            c = np.where(compared, 1.0 / (prior + _PRIOR_FLOOR), 0.0)
            value -= np.sum(np.where(compared, np.log(prior + _PRIOR_FLOOR), 0.0), axis=1)
            sg = soft * (h[:, :, None] * self.pk - hbar[:, :, None] * self.pnk)
            cb = np.einsum("be,beu->bu", c, soft)
            grad_d -= c * np.einsum("beu,bu->be", sg, self.pw[sel]) - np.einsum("beu,bu->be", sg, self.pw[sel] * cb)
            dd = d * compared
            value += np.sum(dd * dd, axis=1) / (2.0 * DISTANCE_PRIOR_SD**2)
            grad_d += dd / DISTANCE_PRIOR_SD**2
            curv = curv + compared / DISTANCE_PRIOR_SD**2
        grad = grad_d @ self.incidence
        if self.fixed is None:
            mean = q.mean(axis=1)
            value = value + 0.01 * mean * mean
            grad = grad + 0.02 * mean[:, None] / self.n
        else:
            grad[:, self.fixed] = 0.0
        if not hessian:
            return value, grad
        n2 = self.n * self.n
        offsets = (np.arange(batch) * n2)[:, None]
        flat = (self.flat_ii, self.flat_jj, self.flat_ij, self.flat_ji)
        index = np.concatenate([offsets + f for f in flat], 1)
        weights = np.concatenate([curv, curv, -curv, -curv], 1)
        hess = np.bincount(index.ravel(), weights.ravel(), batch * n2).reshape(batch, self.n, self.n)
        hess += 1e-9 * np.eye(self.n)
        if self.fixed is None:
            hess += 0.02 / self.n**2
        else:
            hess[:, self.fixed, :] = 0.0
            hess[:, :, self.fixed] = 0.0
            hess[:, self.fixed, self.fixed] = 1.0
        return value, grad, hess

    def __call__(self, free: np.ndarray) -> tuple[float, np.ndarray]:
        """Summed value and gradient over the free parameters (for scipy's optimisers and checks)."""
        value, grad = self.evaluate(self.full(free))
        if self.fixed is not None:
            grad = np.delete(grad, self.fixed, axis=1)
        return float(value.sum()), grad.ravel()


def _newton(objective: _Objective, q: np.ndarray, *, tol: float = 1e-9, max_steps: int = 100) -> np.ndarray:
    """Batched damped Newton: each problem steps along -H^-1 g with its own backtracking line search,
    and stops when its Newton decrement g.H^-1.g / 2 falls below ``tol`` or no step lowers its value.
    Only the problems still moving are evaluated."""
    q = q.copy()
    rows = np.arange(len(q))
    value, grad, hess = objective.evaluate(q, hessian=True)
    for _ in range(max_steps):
        step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        slope = np.sum(grad * step, axis=1)
        keep = slope / 2 > tol
        if not keep.any():
            break
        rows, step, slope, value = rows[keep], step[keep], slope[keep], value[keep]
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
        value, grad, hess = objective.evaluate(q[rows], hessian=True, rows=rows)
    return q


def thurstone_case_v(
    counts: np.ndarray,
    *,
    prior: str = "gaussian",
    fixed: int | None = None,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """JOD scores from a comparison-count matrix (Thurstone Case V ML, pwcmp ``pw_scale``).

    ``counts[i, j]`` = times ``i`` was preferred to ``j`` (non-negative); a stack of matrices
    (B, N, N) fits B independent scales in one optimiser run and returns (B, N). ``fixed``: index
    held at 0 (pwcmp ``fix0``), else mean-zero regularisation (``mean0``). The graph must be connected
    (call ``link_components`` first). ``start``: a warm start of the output's shape (or of one row).
    """
    counts = np.asarray(counts, dtype=float)
    single = counts.ndim == 2
    if single:
        counts = counts[None]
    if counts.ndim != 3 or counts.shape[1] != counts.shape[2]:
        raise ValueError("the comparison matrix must be square")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("comparison counts must be finite and non-negative")
    if prior not in PRIORS:
        raise ValueError(f"unknown prior {prior!r}; use one of {', '.join(PRIORS)}")
    b, n, _ = counts.shape
    if n <= 1:
        out = np.zeros((b, n))
        return out[0] if single else out
    objective = _Objective(counts, prior, fixed)
    q0 = np.zeros((b, n)) if start is None else np.broadcast_to(np.asarray(start, dtype=float), (b, n)).copy()
    if fixed is not None:
        q0 = q0 - q0[:, fixed : fixed + 1]
    out = _newton(objective, q0)
    return out[0] if single else out
