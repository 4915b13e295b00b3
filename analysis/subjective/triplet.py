"""JND scales from plain (PTC) and boosted (BTC) triplet comparisons, as JPEG AIC-3 reconstructs them.

Follows the unified reconstruction of Testolina et al. 2024 ("Fine-grained subjective visual quality
assessment for high-fidelity compressed images", arXiv 2410.09501) as applied to JPEG AI by Jenadeleh
et al. 2025 (arXiv 2504.06301); our own code (no reference code is published).

- Triplet: a pivot and two sides; the answer names the side that differs MORE from the pivot.
- Thurstone Case V on distances: condition ``i`` of a group has a distortion ``x_i >= 0`` JND from the
  group's reference (``x_ref = 0``). A plain answer picks ``left`` with probability
  ``Phi((|x_l - x_p| - |x_r - x_p|) / SIGMA)``; ``SIGMA = 1 / Phi^-1(0.75) = 1.4826`` so a distance
  of 1 JND is seen by 75% (AIC-3: the unit-variance scale divided by ``Phi^-1(0.75)``).
- Boosting (zoom, flicker, amplification) stretches perceived distortion: a boosted answer compares
  ``h(d_l)`` with ``h(d_r)``, ``h(d) = g1 d + g2 d^2`` (AIC-3's quadratic boosting transform), fitted
  jointly with the plain scale by maximum likelihood (projected Newton, exact Hessian); one ``(g1, g2)`` per boosting class (by default
  one per group, i.e. per source; AIC-3 fits one per source and codec, which a caller gets through
  ``boost_classes``). ``boost_model="linear"`` keeps ``g2 = 0``.
- "Not sure" counts half a vote for each side (as in every AIC-3 paper, after Jenadeleh et al. 2023,
  "Relaxed forced choice", arXiv 2305.00220).
- Trap triplets (one side shows the pivot's own condition, the other a strong distortion) only screen
  observers; bias triplets (both sides the same condition) carry no information on the scale under
  this model (``P = 1/2`` whatever the scale) and are left out of it; both are counted.
- Screening: per batch (an MTurk assignment; the observer when no batch is given), the share of trap
  triplets answered correctly ("not sure" is a failure); Otsu's threshold on those shares, separately
  for plain and boosted batches, removes the low mode (AIC-3's batch screening), except batches whose
  traps still beat guessing (binomial test, 5%). An observer whose every batch is removed is reported
  as screened out.
- Gauge and regularisation: the reference is fixed at 0 and distortions are kept non-negative; each
  compared (pair, method) cell gets one tenth of a virtual "not sure" answer, so unanimous cells (and
  bootstrap resamples) stay finite (AIC-3's QoMEX'23 analysis seeds its count matrix likewise).
- Intervals: percentile 95% intervals from a bootstrap over observers (after screening).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

try:  # small dense solves: one BLAS thread avoids oversubscription (shipped with scikit-learn)
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

SIGMA = 1.4826  # 1 / Phi^-1(0.75): a distance of 1 JND is detected by 75%
CHOICES = ("left", "right", "not_sure")
BOOST_MODELS = ("quadratic", "linear")
SCREENINGS = ("otsu", "none")
GUESS_ALPHA = 0.05  # a batch whose traps beat a coin flip at this level is never screened out
VIRTUAL_VOTE = 0.1  # a tenth of a "not sure" answer per compared cell (keeps unanimous cells finite)
MAX_JND = 50.0  # upper bound of a distortion; only reached by unanimous, barely-linked conditions
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


@dataclass(frozen=True)
class TripletAnswer:
    """One triplet trial. ``choice`` names the side that differs MORE from the pivot.

    ``group`` is the source image id (scales are per group); ``pivot``, ``left`` and ``right`` are
    condition labels of that group. ``batch`` (e.g. an MTurk assignment id) is the unit of trap
    screening; empty means the observer.
    """

    observer: str
    group: str
    pivot: str
    left: str
    right: str
    choice: str  # "left" | "right" | "not_sure"
    boosted: bool = False
    trap: bool = False
    bias: bool = False  # left and right show the same condition
    batch: str = ""


@dataclass(frozen=True)
class TripletCondition:
    """A condition's distortion ``jnd`` from its group's reference, with a 95% bootstrap interval."""

    label: str
    group: str
    reference: bool
    jnd: float  # distortion in JND from the group's reference (reference = 0, higher = worse)
    score: float  # = -jnd (quality relative to the reference, higher = better)
    ci_low: float
    ci_high: float  # 95% bootstrap interval of jnd
    answers: int  # answers that involved this condition after screening


@dataclass(frozen=True)
class TripletScale:
    """The reconstructed scale. ``boost_gain``: median over boosted conditions of ``h(x) / x`` (how
    many times larger a distortion looks boosted); ``boost_curves``: ``(g1, g2)`` per boosting class.
    """

    conditions: list[TripletCondition]
    boost_gain: float | None
    observers: int
    observers_screened_out: list[str]
    answers_used: int
    unit: str = "JND"
    batches_screened_out: list[str] = field(default_factory=list)
    trap_thresholds: dict[str, float] = field(default_factory=dict)  # "plain"/"boosted" -> Otsu cut
    boost_curves: dict[str, tuple[float, float]] = field(default_factory=dict)
    answers_trap: int = 0
    answers_bias: int = 0
    unestimated: list[str] = field(default_factory=list)  # conditions seen only in traps/bias
    warnings: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------
# screening


def otsu_threshold(values: Sequence[float]) -> float | None:
    """Otsu's threshold on a 1-D sample: the cut between two sorted values that maximises the
    between-class variance (Otsu 1979). ``None`` when the sample has fewer than two distinct values.
    Values at or above the returned cut form the upper class."""
    v = np.sort(np.asarray(values, dtype=float))
    levels = np.unique(v)
    if levels.size < 2:
        return None
    best, cut = -1.0, None
    for lo, hi in zip(levels[:-1], levels[1:]):
        t = 0.5 * (lo + hi)
        below, above = v[v < t], v[v >= t]
        w0, w1 = below.size / v.size, above.size / v.size
        between = w0 * w1 * (below.mean() - above.mean()) ** 2
        if between > best + 1e-15:
            best, cut = between, t
    return cut


def trap_passed(answer: TripletAnswer) -> bool:
    """A trap is passed when the side NOT showing the pivot's condition is named ("not sure" fails)."""
    if (answer.left == answer.pivot) == (answer.right == answer.pivot):
        raise ValueError(
            f"trap triplet of observer {answer.observer!r} in group {answer.group!r}: exactly one side "
            f"must show the pivot {answer.pivot!r} (got {answer.left!r}, {answer.right!r})"
        )
    return answer.choice == ("right" if answer.left == answer.pivot else "left")


def screen_batches(answers: Sequence[TripletAnswer]) -> tuple[set[tuple[str, str]], dict[str, float]]:
    """Batches (observer, batch) whose trap-pass share falls below Otsu's threshold, computed
    separately over plain and boosted batches; and the thresholds used ("plain"/"boosted").

    Otsu always splits a sample in two, so in a clean study it would cut the honest mode; a batch
    whose passed traps beat guessing (one-sided binomial test against 1/2 at ``GUESS_ALPHA``) is
    therefore kept whatever the cut (on SDR25 this keeps no extra batch: Otsu cuts at 0.65)."""
    results: dict[tuple[str, str], list[bool]] = {}
    kind: dict[tuple[str, str], str] = {}
    for a in answers:
        key = (a.observer, a.batch or a.observer)
        kind.setdefault(key, "boosted" if a.boosted else "plain")
        if a.trap:
            results.setdefault(key, []).append(trap_passed(a))
    removed: set[tuple[str, str]] = set()
    thresholds: dict[str, float] = {}
    for method in ("plain", "boosted"):
        keys = [k for k in results if kind[k] == method]
        shares = [float(np.mean(results[k])) for k in keys]
        cut = otsu_threshold(shares)
        if cut is None:
            continue
        thresholds[method] = cut
        for key, share in zip(keys, shares):
            passed, total = sum(results[key]), len(results[key])
            beats_guessing = stats.binom.sf(passed - 1, total, 0.5) < GUESS_ALPHA
            if share < cut and not beats_guessing:
                removed.add(key)
    return removed, thresholds


# ----------------------------------------------------------------------------------------------
# the likelihood


class _Model:
    """Negative log-likelihood of the cells, its gradient and exact Hessian over
    ``theta = [x (n conditions), g1 (C classes), g2 (C classes)]``.

    A cell is one (pivot, left, right, boosted) combination with its left and right vote weights.
    Each side ``s`` enters ``z = (H_l - H_r) / SIGMA`` through ``H_s = h(d_s)``, ``d_s = |x_s - x_p|``
    (``h`` = identity for plain cells), so a cell touches at most 7 parameters; the Hessian is
    assembled from those 7x7 blocks with one ``bincount``.
    """

    def __init__(
        self,
        n: int,
        cells: np.ndarray,
        boosted: np.ndarray,
        cls_l: np.ndarray,
        cls_r: np.ndarray,
        n_classes: int,
        free: np.ndarray,
    ):
        self.n, self.c = n, n_classes
        self.size = n + 2 * n_classes
        self.p, self.l, self.r = cells[:, 0], cells[:, 1], cells[:, 2]
        self.b = boosted.astype(bool)
        self.cls_l = np.where(self.b, cls_l, 0)
        self.cls_r = np.where(self.b, cls_r, 0)
        self.free = free  # parameters that move (references and unused boosting terms do not)
        sink = self.size  # index of a dummy parameter that absorbs the entries of fixed ones
        g1l, g1r = n + self.cls_l, n + self.cls_r
        g2l, g2r = n + n_classes + self.cls_l, n + n_classes + self.cls_r
        idx = np.stack([self.l, self.r, self.p, g1l, g1r, g2l, g2r], axis=1)
        idx[~self.b, 3:] = sink
        idx = np.where(np.append(free, False)[idx], idx, sink)
        self.idx = idx

    def evaluate(self, theta: np.ndarray, w_left: np.ndarray, w_right: np.ndarray, hessian: bool = True):
        n, c = self.n, self.c
        x = theta[:n]
        g1 = theta[n : n + c] if c else np.ones(1)
        g2 = theta[n + c :] if c else np.zeros(1)
        b = self.b
        raw_l, raw_r = x[self.l] - x[self.p], x[self.r] - x[self.p]
        sl, sr = np.where(raw_l >= 0, 1.0, -1.0), np.where(raw_r >= 0, 1.0, -1.0)
        dl, dr = np.abs(raw_l), np.abs(raw_r)
        a1l, a1r = np.where(b, g1[self.cls_l], 1.0), np.where(b, g1[self.cls_r], 1.0)
        a2l, a2r = np.where(b, g2[self.cls_l], 0.0), np.where(b, g2[self.cls_r], 0.0)
        hl, hr = a1l * dl + a2l * dl * dl, a1r * dr + a2r * dr * dr
        dhl, dhr = a1l + 2 * a2l * dl, a1r + 2 * a2r * dr  # dh/dd
        z = (hl - hr) / SIGMA
        logp, lam = _log_ndtr_ratio(z)
        logq, lam_q = _log_ndtr_ratio(-z)
        value = -float(np.sum(w_left * logp + w_right * logq))
        f1 = (-w_left * lam + w_right * lam_q) / SIGMA  # d value / d (H_l - H_r)
        # dz * SIGMA / d[x_l, x_r, x_p, g1_l, g1_r, g2_l, g2_r]
        jac = np.stack([dhl * sl, -dhr * sr, -dhl * sl + dhr * sr, dl, -dr, dl * dl, -dr * dr], axis=1)
        jac[~b, 3:] = 0.0
        grad = np.bincount(self.idx.ravel(), (f1[:, None] * jac).ravel(), self.size + 1)[: self.size]
        if not hessian:
            return value, grad
        f2 = (w_left * lam * (z + lam) + w_right * lam_q * (lam_q - z)) / SIGMA**2  # d2 value / d(H_l-H_r)2
        size = self.size + 1
        rows = np.repeat(self.idx, 7, axis=1)
        cols = np.tile(self.idx, (1, 7))
        vals = f2[:, None] * (jac[:, :, None] * jac[:, None, :]).reshape(len(f2), 49)
        flat = np.bincount((rows * size + cols).ravel(), vals.ravel(), size * size)
        # second derivatives of H_l - H_r (boosted cells only): h'' = 2 g2, dh'/dg1 = 1, dh'/dg2 = 2d
        if c and b.any():
            i = self.idx[b]
            f = f1[b]
            for side, sign, s_, d_, a2 in ((0, 1.0, sl[b], dl[b], a2l[b]), (1, -1.0, sr[b], dr[b], a2r[b])):
                xs, xp, gg1, gg2 = i[:, side], i[:, 2], i[:, 3 + side], i[:, 5 + side]
                terms = [
                    (xs, xs, 2 * a2),
                    (xp, xp, 2 * a2),
                    (xs, xp, -2 * a2),
                    (xp, xs, -2 * a2),
                    (xs, gg1, s_),
                    (gg1, xs, s_),
                    (xp, gg1, -s_),
                    (gg1, xp, -s_),
                    (xs, gg2, 2 * d_ * s_),
                    (gg2, xs, 2 * d_ * s_),
                    (xp, gg2, -2 * d_ * s_),
                    (gg2, xp, -2 * d_ * s_),
                ]
                for r_, c_, v in terms:
                    flat += np.bincount(r_ * size + c_, sign * f * v, size * size)
        hess = flat.reshape(size, size)[: self.size, : self.size]
        return value, grad, hess


def _log_ndtr_ratio(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log Phi(z) and phi(z) / Phi(z), stable for large |z|."""
    logp = special.log_ndtr(z)
    return logp, np.exp(-0.5 * z * z - _LOG_SQRT_2PI - logp)


def _newton(
    model: _Model,
    w_left: np.ndarray,
    w_right: np.ndarray,
    start: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    tol: float = 1e-10,
    max_steps: int = 200,
) -> np.ndarray:
    """Projected Newton (Bertsekas 1982) with backtracking: parameters at a bound whose gradient
    pushes outwards are held; the others take a damped Newton step (Levenberg shift where the
    Hessian is not positive definite), projected back into the bounds."""
    theta = np.clip(start, lower, upper)
    value, grad, hess = model.evaluate(theta, w_left, w_right)
    for _ in range(max_steps):
        at_bound = ((theta <= lower) & (grad > 0)) | ((theta >= upper) & (grad < 0))
        move = model.free & ~at_bound
        if not move.any():
            break
        g = grad[move]
        h = hess[np.ix_(move, move)]
        shift = 0.0
        scale = max(1e-12, float(np.abs(np.diag(h)).max()))
        while True:
            try:
                chol = np.linalg.cholesky(h + shift * np.eye(len(g)))
                break
            except np.linalg.LinAlgError:
                shift = max(shift * 10.0, 1e-8 * scale)
        step = np.zeros_like(theta)
        step[move] = -np.linalg.solve(chol.T, np.linalg.solve(chol, g))
        decrement = -float(g @ step[move])
        if decrement / 2 < tol:
            break
        t = 1.0
        while t > 1e-10:
            candidate = np.clip(theta + t * step, lower, upper)
            new_value = model.evaluate(candidate, w_left, w_right, hessian=False)[0]
            if new_value <= value - 1e-4 * t * decrement:
                break
            t *= 0.5
        else:
            break
        theta = candidate
        value, grad, hess = model.evaluate(theta, w_left, w_right)
    return theta


# ----------------------------------------------------------------------------------------------
# the public function


def triplet_scale(
    answers: Sequence[TripletAnswer],
    references: Mapping[str, str],
    *,
    bootstrap: int = 200,
    seed: int = 0,
    boost_model: str = "quadratic",
    boost_classes: Mapping[tuple[str, str], str] | None = None,
    screening: str = "otsu",
) -> TripletScale:
    """JND distortions of every condition from PTC and BTC answers jointly (JPEG AIC-3's unified
    reconstruction, Testolina et al. 2024, arXiv 2410.09501; Jenadeleh et al. 2025, arXiv 2504.06301).

    ``references`` maps each group to its reference label (0 JND). ``boost_classes`` maps
    ``(group, label)`` to a boosting class whose conditions share one transform ``h``; by default each
    group is one class. ``screening="none"`` keeps every batch. ``bootstrap`` resamples of the
    observers (``0``: intervals collapse to the estimate). See the module docstring for the model.
    """
    if boost_model not in BOOST_MODELS:
        raise ValueError(f"unknown boost_model {boost_model!r}; use one of {', '.join(BOOST_MODELS)}")
    if screening not in SCREENINGS:
        raise ValueError(f"unknown screening {screening!r}; use one of {', '.join(SCREENINGS)}")
    if bootstrap < 0:
        raise ValueError("bootstrap must be >= 0")
    if not answers:
        raise ValueError("no triplet answers")
    for a in answers:
        if a.choice not in CHOICES:
            raise ValueError(f"unknown choice {a.choice!r} of observer {a.observer!r}; use one of {', '.join(CHOICES)}")
        if a.group not in references:
            raise ValueError(f"group {a.group!r} has no reference condition")
    removed, thresholds = screen_batches(answers) if screening == "otsu" else (set(), {})
    kept_obs = {a.observer for a in answers if (a.observer, a.batch or a.observer) not in removed}
    screened_out = sorted({a.observer for a in answers} - kept_obs)
    used = [a for a in answers if not a.trap and not a.bias and (a.observer, a.batch or a.observer) not in removed]
    n_trap = sum(1 for a in answers if a.trap)
    n_bias = sum(1 for a in answers if a.bias)

    # conditions: references first in each group, then every label that a used answer names
    labels: dict[tuple[str, str], int] = {}
    for g in sorted({a.group for a in answers}):
        labels[(g, references[g])] = len(labels)
    for a in used:
        for lab in (a.pivot, a.left, a.right):
            labels.setdefault((a.group, lab), len(labels))
    seen = {(a.group, lab) for a in answers for lab in (a.pivot, a.left, a.right)}
    unestimated = sorted(f"{g}/{lab}" for g, lab in seen - set(labels))
    ref_keys = {(g, references[g]) for g in references}
    fixed = np.array([key in ref_keys for key in labels])

    classes: dict[str, int] = {}
    cond_class = np.full(len(labels), -1)
    boosted_keys = {(a.group, lab) for a in used if a.boosted for lab in (a.pivot, a.left, a.right)}
    for key, idx in labels.items():  # a class exists only where boosted answers can fit it
        if key in boosted_keys:
            name = boost_classes.get(key, key[0]) if boost_classes is not None else key[0]
            cond_class[idx] = classes.setdefault(name, len(classes))

    # cells: one per (pivot, left, right, boosted); per-observer vote weights for the bootstrap
    observers = sorted({a.observer for a in used})
    obs_index = {o: i for i, o in enumerate(observers)}
    cell_index: dict[tuple[int, int, int, bool], int] = {}
    rows, obs_col, wl, wr = [], [], [], []
    involved = np.zeros(len(labels), dtype=int)
    for a in used:
        p, lft, rgt = labels[(a.group, a.pivot)], labels[(a.group, a.left)], labels[(a.group, a.right)]
        vote_left = 1.0 if a.choice == "left" else 0.5 if a.choice == "not_sure" else 0.0
        if lft > rgt:  # one cell for both presentation orders
            lft, rgt, vote_left = rgt, lft, 1.0 - vote_left
        cell = (p, lft, rgt, a.boosted)
        rows.append(cell_index.setdefault(cell, len(cell_index)))
        obs_col.append(obs_index[a.observer])
        wl.append(vote_left)
        wr.append(1.0 - vote_left)
        involved[lft] += 1
        if rgt != lft:
            involved[rgt] += 1
    warnings: list[str] = []
    if not cell_index:
        raise ValueError("no usable triplet answers (all were traps, bias triplets or screened out)")
    cells = np.array([k[:3] for k in cell_index], dtype=int)
    boosted = np.array([k[3] for k in cell_index], dtype=bool)
    n, c = len(labels), len(classes)
    cls_l = np.where(boosted, cond_class[cells[:, 1]], 0)
    cls_r = np.where(boosted, cond_class[cells[:, 2]], 0)
    quadratic = boost_model == "quadratic"
    free = np.concatenate([~fixed, np.ones(c, dtype=bool), np.full(c, quadratic)])
    model = _Model(n, cells, boosted, cls_l, cls_r, c, free)
    lower = np.concatenate([np.zeros(n), np.full(c, 0.05), np.full(c, -5.0 if quadratic else 0.0)])
    upper = np.concatenate([np.where(fixed, 0.0, MAX_JND), np.full(c, 20.0), np.full(c, 5.0 if quadratic else 0.0)])
    n_cells, n_obs = len(cell_index), len(observers)
    per_obs_l = np.zeros((n_obs, n_cells))
    per_obs_r = np.zeros((n_obs, n_cells))
    np.add.at(per_obs_l, (np.array(obs_col), np.array(rows)), np.array(wl))
    np.add.at(per_obs_r, (np.array(obs_col), np.array(rows)), np.array(wr))
    start = np.concatenate([np.where(fixed, 0.0, 1.0), np.full(c, 2.0), np.zeros(c)])

    def fit(weights: np.ndarray, x0: np.ndarray) -> np.ndarray:
        left = weights @ per_obs_l
        right = weights @ per_obs_r
        compared = (left + right) > 0
        left = left + compared * VIRTUAL_VOTE / 2
        right = right + compared * VIRTUAL_VOTE / 2
        return _newton(model, left, right, x0, lower, upper)

    limit = threadpool_limits(1) if threadpool_limits is not None else contextlib.nullcontext()
    with limit:
        theta = fit(np.ones(n_obs), start)
        draws = np.empty((bootstrap, n))
        rng = np.random.default_rng(seed)
        for k in range(bootstrap):
            weights = np.bincount(rng.integers(0, n_obs, n_obs), minlength=n_obs).astype(float)
            draws[k] = fit(weights, theta)[:n]
    if bootstrap and n_obs < 3:
        warnings.append(f"intervals rest on {n_obs} observer(s); they are not meaningful")

    x = theta[:n]
    lo, hi = np.percentile(draws, [2.5, 97.5], axis=0) if bootstrap else (x, x)
    g1, g2 = theta[n : n + c], theta[n + c : n + 2 * c]
    boost_curves = {name: (float(g1[i]), float(g2[i])) for name, i in classes.items()}
    gain = None
    if c:
        in_boosted = np.zeros(n, dtype=bool)
        in_boosted[cells[boosted].ravel()] = True
        sel = in_boosted & ~fixed & (x > 1e-6)
        if sel.any():
            cc = cond_class[sel]
            gain = float(np.median(g1[cc] + g2[cc] * x[sel]))
        for name, i in classes.items():
            if g2[i] < 0 and (g1[i] + 2 * g2[i] * x[cond_class == i].max(initial=0.0)) < 0:
                warnings.append(f"boosting transform of class {name!r} is not monotone over its conditions")
    conditions = [
        TripletCondition(
            label=lab,
            group=g,
            reference=bool(fixed[i]),
            jnd=float(x[i]),
            score=float(-x[i]),
            ci_low=float(lo[i]),
            ci_high=float(hi[i]),
            answers=int(involved[i]),
        )
        for (g, lab), i in labels.items()
    ]
    return TripletScale(
        conditions=conditions,
        boost_gain=gain,
        observers=n_obs,
        observers_screened_out=screened_out,
        answers_used=len(used),
        batches_screened_out=sorted(f"{o}/{b}" for o, b in removed),
        trap_thresholds=thresholds,
        boost_curves=boost_curves,
        answers_trap=n_trap,
        answers_bias=n_bias,
        unestimated=unestimated,
        warnings=warnings,
    )
