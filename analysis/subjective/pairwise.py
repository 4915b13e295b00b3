"""Pairwise comparisons -> a perceptual scale in JOD per scene, with bootstrap intervals and outliers.

The analysis of pwcmp (Perez-Ortiz and Mantiuk 2017, arXiv 1712.03686), our own code:

- Scaling: pwcmp's ``pw_scale`` (``analysis.subjective.thurstone``: Thurstone Case V maximum
  likelihood with its prior, ``gaussian`` by default, or ``bounded``/``none``), one scale per scene,
  the scene's hidden reference fixed at 0 JOD (pwcmp's ``fix0``; ``mean0`` for a scene without
  one); higher is better, so degraded conditions score below 0.
- Disconnected comparison graphs are linked weakly (pwcmp's tie between the best conditions of each
  component) and named in ``Scale.group_warnings`` (and ``warnings``): scores across components are
  then not comparable. So is a scene whose comparisons are too sparse and near-unanimous to measure
  distances (``analysis.subjective.design``); each condition reports its ``effective_comparisons``.
- 95% intervals: bootstrap over observers (pwcmp's ``pw_scale_bootstrp``): observers are drawn with
  replacement, all their answers together, ``n_bootstrap`` times from ``seed``; the interval is
  Hesterberg's expanded percentile interval (``expanded_percentiles``: a plain percentile interval
  from 10-20 observers is too narrow, and covered 86-90% in our simulations). The prior
  shrinks conditions that nearly everyone tells from the reference (p > 0.98) a little towards it,
  so their intervals cover less than the others' (measured in ``benchmarks/study_sampling.py``;
  a bias-corrected (BC) interval was tried and covered worse).
- Observer screening (the idea of pwcmp's ``pw_outlier_analysis``): each observer's answers are
  scored by their log-likelihood under the scale fitted to everyone else (leave-one-out, summed over
  scenes). pwcmp ranks these per trial against the other observers' interquartile range; we test
  them against what the model itself predicts for an observer who follows that scale (mean and
  variance of the log-likelihood of Bernoulli answers), so the rule does not flag someone in every
  study: z < ``OUTLIER_Z`` (-3) flags. A random observer in a study whose conditions differ visibly
  lands far below (z of -5 to -10 in our simulations). Flagged observers stay in
  ``Scale.observers`` with ``outlier=True`` and the reason, and are left out of the scale when
  ``exclude_outliers``. Needs ``MIN_OBSERVERS_FOR_SCREENING`` observers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
from scipy import special, stats

from analysis.subjective.design import design_warning, effective_comparisons, group_design
from analysis.subjective.thurstone import PRIORS, SIGMA, components, link_components, pw_scale, thurstone_case_v
from analysis.subjective.types import Comparison, ConditionScore, GroupWarning, ObserverReport, Scale

OUTLIER_Z = -3.0  # one-sided: about 0.1% of observers who follow the scale fall below it
MIN_OBSERVERS_FOR_SCREENING = 4
_BATCH_CELLS = 4_000_000  # pairs x answer patterns x resamples held at once by the batched fit
_LOG_HALF = math.log(0.5)


class _Scene:
    """One scene's conditions and per-observer comparison-count tensor (observers x N x N)."""

    def __init__(self, scene: str, conditions: list[str], reference: str | None, n_observers: int):
        self.scene = scene
        self.conditions = conditions
        self.index = {c: x for x, c in enumerate(conditions)}
        self.reference = reference
        self.fixed = self.index[reference] if reference is not None else None
        self.counts = np.zeros((n_observers, len(conditions), len(conditions)))


def _collect(comparisons: list[Comparison], references: Mapping[str, str]) -> tuple[list[str], list[_Scene], list[str]]:
    observers = sorted({c.observer for c in comparisons})
    obs_index = {o: x for x, o in enumerate(observers)}
    by_scene: dict[str, list[Comparison]] = {}
    for c in comparisons:
        by_scene.setdefault(c.scene, []).append(c)
    scenes: list[_Scene] = []
    warnings: list[str] = []
    for scene in sorted(by_scene):
        rows = by_scene[scene]
        seen: dict[str, None] = {}
        reference = references.get(scene)
        if reference is None:
            warnings.append(f"scene {scene}: no hidden reference given; scores are mean-zero, not reference-zero")
        else:
            seen[reference] = None
        for c in rows:
            seen.setdefault(c.a, None)
            seen.setdefault(c.b, None)
        s = _Scene(scene, list(seen), reference, len(observers))
        o = np.array([obs_index[c.observer] for c in rows])
        ia = np.array([s.index[c.a] for c in rows])
        ib = np.array([s.index[c.b] for c in rows])
        sel = np.array([c.a_selected for c in rows], dtype=bool)
        winner = np.where(sel, ia, ib)
        loser = np.where(sel, ib, ia)
        np.add.at(s.counts, (o, winner, loser), 1.0)
        scenes.append(s)
    return observers, scenes, warnings


def _validate(comparisons: list[Comparison], n_bootstrap: int, prior: str) -> None:
    if prior not in PRIORS:
        raise ValueError(f"unknown prior {prior!r}; use one of {', '.join(PRIORS)}")
    if n_bootstrap < 0:
        raise ValueError("n_bootstrap must be >= 0")
    for c in comparisons:
        if not isinstance(c, Comparison):
            raise TypeError(f"expected Comparison, got {type(c).__name__}")
        if c.a == c.b:
            raise ValueError(f"comparison of condition {c.a!r} with itself (scene {c.scene!r})")


def _fit(scene: _Scene, counts: np.ndarray, prior: str) -> tuple[np.ndarray, int]:
    """pwcmp's ``pw_scale`` from q = 0, the scene's reference held at 0 (``fix0``) or ``mean0``."""
    n_comp = int(components(counts).max()) + 1
    if scene.fixed is None:
        return pw_scale(counts, prior=prior, regularization="mean0"), n_comp
    return pw_scale(counts, prior=prior, regularization="fix0", reference=scene.fixed), n_comp


def expanded_percentiles(n_observers: int, level: float = 0.95) -> tuple[float, float]:
    """Quantiles of the resamples that bound a ``level`` interval from ``n_observers`` observers.

    Hesterberg's expanded percentile interval (T. Hesterberg, "What teachers should know about the
    bootstrap", The American Statistician 69(4), 2015): the plain percentile interval is too narrow
    for small samples (the bootstrap spread lacks the n/(n-1) factor and the t tail), so the tail
    probability is taken as Phi(-sqrt(n/(n-1)) t((1+level)/2, n-1)) instead of (1-level)/2.
    """
    if n_observers < 2:
        return (0.5 - level / 2, 0.5 + level / 2)
    z = math.sqrt(n_observers / (n_observers - 1)) * stats.t.ppf(0.5 + level / 2, n_observers - 1)
    tail = float(special.ndtr(-z))
    return (tail, 1.0 - tail)


def _fit_stack(scene: _Scene, counts: np.ndarray, prior: str, start: np.ndarray | None) -> np.ndarray:
    """Scores of a stack of count matrices (bootstrap resamples, leave-one-out sets), each linked as
    ``pw_scale`` links it, fitted in batches of one optimiser run."""
    n = len(scene.conditions)
    pairs = max(1, int(np.count_nonzero(scene.counts.sum(axis=0))) * 2)
    chunk = max(1, min(len(counts), _BATCH_CELLS // (pairs * pairs)))
    out = np.empty((len(counts), n))
    for first in range(0, len(counts), chunk):
        linked = np.stack([link_components(c)[0] for c in counts[first : first + chunk]])
        out[first : first + chunk] = thurstone_case_v(linked, prior=prior, fixed=scene.fixed, start=start)
    return out


def _bootstrap(scene: _Scene, weights: np.ndarray, prior: str, start: np.ndarray) -> np.ndarray:
    """Scores of each resample (rows of observer weights), as pwcmp's ``pw_scale_bootstrp``."""
    return _fit_stack(scene, np.tensordot(weights, scene.counts, axes=1), prior, start)


def _screen(observers: list[str], scenes: list[_Scene], prior: str) -> dict[str, str]:
    """Leave-one-out goodness of fit of each observer (after pwcmp's ``pw_outlier_analysis``).

    For each observer and scene, the scale is fitted to everyone else's answers; the observer's
    log-likelihood under it is compared with what an observer who follows that scale would get:
    mean sum n p ln p + (1-p) ln(1-p) and variance sum n p (1-p) (ln p - ln(1-p))^2 per compared
    pair. z = (observed - mean) / sd, summed over scenes; flagged when z < ``OUTLIER_Z``.
    """
    n_obs = len(observers)
    loglik = np.zeros(n_obs)
    expected = np.zeros(n_obs)
    variance = np.zeros(n_obs)
    trials = np.zeros(n_obs)
    for s in scenes:
        total = s.counts.sum(axis=0)
        upper = np.triu_indices(len(s.conditions), 1)
        answered = [o for o in range(n_obs) if s.counts[o].any()]
        if not answered:
            continue
        rest = total[None] - s.counts[answered]
        everyone, _ = _fit(s, total, prior)
        fits = _fit_stack(s, rest, prior, everyone)
        for o, scores in zip(answered, fits):
            own = s.counts[o]
            d = (scores[:, None] - scores[None, :]) / SIGMA
            logp = special.log_ndtr(d)[upper]
            log1mp = special.log_ndtr(-d)[upper]
            p = np.exp(logp)
            shown = (own + own.T)[upper]
            loglik[o] += float(np.sum(own[upper] * logp + own.T[upper] * log1mp))
            expected[o] += float(np.sum(shown * (p * logp + (1 - p) * log1mp)))
            variance[o] += float(np.sum(shown * p * (1 - p) * (logp - log1mp) ** 2))
            trials[o] += shown.sum()
    reasons: dict[str, str] = {}
    for o in np.flatnonzero(trials > 0):
        z = (loglik[o] - expected[o]) / math.sqrt(max(variance[o], 1e-12))
        if z < OUTLIER_Z:
            reasons[observers[o]] = (
                f"answers fit the other observers' scale much worse than expected: log-likelihood "
                f"{loglik[o] / trials[o]:.3f}/trial vs {expected[o] / trials[o]:.3f} expected "
                f"(z = {z:.1f} < {OUTLIER_Z:g}; chance is {_LOG_HALF:.3f})"
            )
    return reasons


def scale_pairwise(
    comparisons: Iterable[Comparison],
    *,
    references: Mapping[str, str],
    n_bootstrap: int = 500,
    seed: int = 0,
    exclude_outliers: bool = True,
    prior: str = "gaussian",
    flagged: Mapping[str, str] | None = None,
) -> Scale:
    """Thurstone Case V maximum-likelihood scale in JOD per scene (Perez-Ortiz and Mantiuk 2017, pwcmp).

    ``references[scene]`` is that scene's hidden-reference condition, fixed at 0 JOD; higher is
    better (1 JOD = 75% of observers prefer one condition). 95% intervals: bootstrap over observers
    (``n_bootstrap`` resamples from ``seed``, expanded percentiles; 0 gives no interval,
    ``ci_low = ci_high = score``, and a warning). Observers flagged by the leave-one-out likelihood
    screening (see the module docstring), or listed in ``flagged`` (observer -> reason, e.g. from ``trap_failures``),
    are reported with ``outlier=True`` and left out of the scale when ``exclude_outliers``.
    ``n`` of a condition = trials that showed it (from the observers kept). An interval is widened
    to include its point estimate where the bootstrap percentiles miss it (rare, skewed cases).
    """
    comparisons = list(comparisons)
    _validate(comparisons, n_bootstrap, prior)
    if not comparisons:
        return Scale("JOD", [], [], ["no comparisons yet"])
    observers, scenes, warnings = _collect(comparisons, references)
    trials_of = {o: 0 for o in observers}
    for c in comparisons:
        trials_of[c.observer] += 1

    reasons: dict[str, str] = {}
    if len(observers) >= MIN_OBSERVERS_FOR_SCREENING:
        reasons = _screen(observers, scenes, prior)
    else:
        warnings.append(
            f"observer screening needs at least {MIN_OBSERVERS_FOR_SCREENING} observers ({len(observers)} so far)"
        )
    for o, why in (flagged or {}).items():
        if o in trials_of:
            reasons[o] = why if o not in reasons else f"{why}; {reasons[o]}"
    keep = np.array([not (exclude_outliers and o in reasons) for o in observers])
    if not keep.any():
        warnings.append("every observer is flagged; the scale uses all of them")
        keep[:] = True

    rng = np.random.default_rng(seed)
    kept = np.flatnonzero(keep)
    draws = [np.bincount(rng.choice(kept, size=kept.size), minlength=len(observers)) for _ in range(n_bootstrap)]
    if n_bootstrap == 0:
        warnings.append("no bootstrap resamples: intervals are not computed (ci_low = ci_high = score)")
    elif kept.size < 3:
        warnings.append(f"intervals bootstrapped from {kept.size} observer(s) understate the uncertainty")

    results: list[ConditionScore] = []
    group_warnings: list[GroupWarning] = []
    for s in scenes:
        counts = np.tensordot(keep.astype(float), s.counts, axes=1)
        scores, n_comp = _fit(s, counts, prior)
        if n_comp > 1:
            group_warnings.append(
                GroupWarning(
                    s.scene,
                    (
                        f"comparison graph has {n_comp} disconnected components; they are linked "
                        f"weakly and scores across components are not comparable"
                    ),
                )
            )
        regime = design_warning(group_design(counts))
        if regime:
            group_warnings.append(GroupWarning(s.scene, regime))
        effective = effective_comparisons(counts, scores)
        if n_bootstrap:
            boot = _bootstrap(s, np.stack(draws).astype(float), prior, scores)
            low, high = np.quantile(boot, expanded_percentiles(kept.size), axis=0)
        else:
            low, high = scores, scores
        shown = counts.sum(axis=0) + counts.sum(axis=1)
        for condition, x in sorted(s.index.items(), key=lambda item: -scores[item[1]]):
            results.append(
                ConditionScore(
                    condition=condition,
                    scene=s.scene,
                    score=float(scores[x]),
                    ci_low=float(min(low[x], scores[x])),
                    ci_high=float(max(high[x], scores[x])),
                    n=int(shown[x]),
                    effective_comparisons=float(effective[x]),
                )
            )
    warnings.extend(f"scene {w.group}: {w.message}" for w in group_warnings)
    reports = [ObserverReport(o, trials_of[o], o in reasons, reasons.get(o)) for o in observers]
    return Scale("JOD", results, reports, warnings, group_warnings)
