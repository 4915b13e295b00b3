"""Where a metric fails: its worst disagreements with people and its bias per codec family.

- Residuals: human score minus the fitted logistic's prediction (VQEG's residual analysis); the
  conditions with the largest absolute residuals are where the metric misjudges most, in the human
  unit. Positive = people liked the condition more than the metric predicts (the metric under-rates it).
- Contradicting pairs: two conditions of one source image whose human intervals do not overlap (a
  confident human order) while the metric orders them the other way round.
- Family bias: the mean residual per codec family ("PSNR under-rates learned codecs by 0.4 JOD")
  with a 95% bootstrap interval over source images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from analysis.correlation import bootstrap
from analysis.correlation.logistic import fit_logistic
from analysis.correlation.observations import Observation
from analysis.correlation.orientation import orient


@dataclass(frozen=True)
class Residual:
    """One condition's misjudgement: human - predicted (in the human unit)."""

    observation: Observation
    metric_value: float
    predicted: float
    residual: float


@dataclass(frozen=True)
class ContradictingPair:
    """Two conditions of one image: people confidently prefer ``better``; the metric prefers ``worse``."""

    better: Observation
    worse: Observation
    metric_better: float
    metric_worse: float
    human_gap: float  # lower end of better's interval minus upper end of worse's (> 0)


@dataclass(frozen=True)
class Disagreements:
    metric: str
    fit_failed: bool
    residuals: list[Residual]
    contradicting_pairs: list[ContradictingPair]


@dataclass(frozen=True)
class FamilyBias:
    """Mean residual of one codec family (positive: the metric under-rates that family) and its interval."""

    family: str
    n: int
    mean_residual: float
    ci: list[float] | None


def _usable(observations: Sequence[Observation], metric: str) -> list[Observation]:
    return [
        o
        for o in observations
        if (value := o.metric_values.get(metric)) is not None
        and np.isfinite(value)
        and o.human is not None
        and np.isfinite(o.human)
    ]


def _residuals(kept: list[Observation], metric: str, higher_is_better: bool, fit: str):
    x, _ = orient(np.array([o.metric_values[metric] for o in kept], dtype=np.float64), higher_is_better)
    y = np.array([o.human for o in kept], dtype=np.float64)
    mapping = fit_logistic(x, y, form=fit) if len(kept) >= 6 else None
    if mapping is None or mapping.failed:
        return x, y, None, True
    predicted = mapping.predict(x)
    return x, y, predicted, False


def worst_disagreements(
    observations: Sequence[Observation],
    metric: str,
    higher_is_better: bool,
    *,
    fit: str = "logistic4",
    top: int = 10,
) -> Disagreements:
    """The ``top`` largest absolute residuals from the fitted logistic and the ``top`` contradicting pairs.

    Residuals need a fit that did not fail (else the list is empty and ``fit_failed`` is True).
    Contradicting pairs need ``human_ci`` on the observations; they are ranked by the human gap
    (most confident human order first).
    """
    kept = _usable(observations, metric)
    x, y, predicted, failed = _residuals(kept, metric, higher_is_better, fit)
    residuals: list[Residual] = []
    if predicted is not None:
        r = y - predicted
        for i in np.argsort(-np.abs(r), kind="stable")[:top]:
            residuals.append(Residual(kept[i], float(kept[i].metric_values[metric]), float(predicted[i]), float(r[i])))
    by_image: dict[str, list[tuple[int, tuple[float, float]]]] = {}
    for i, o in enumerate(kept):
        if o.human_ci is not None:
            by_image.setdefault(o.image, []).append((i, o.human_ci))
    values = np.array([o.metric_values[metric] for o in kept], dtype=np.float64)  # _usable: never None
    pairs: list[ContradictingPair] = []
    for indexed in by_image.values():
        for (i, (lo_i, hi_i)), (j, (lo_j, hi_j)) in combinations(indexed, 2):
            if lo_i > hi_j:
                better, worse, gap = i, j, lo_i - hi_j
            elif lo_j > hi_i:
                better, worse, gap = j, i, lo_j - hi_i
            else:
                continue
            if x[better] < x[worse]:
                pairs.append(
                    ContradictingPair(
                        kept[better], kept[worse], float(values[better]), float(values[worse]), float(gap)
                    )
                )
    pairs.sort(key=lambda p: -p.human_gap)
    return Disagreements(metric, failed, residuals, pairs[:top])


def family_bias(
    observations: Sequence[Observation],
    metric: str,
    higher_is_better: bool,
    *,
    fit: str = "logistic4",
    n_bootstrap: int = bootstrap.DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = bootstrap.CONFIDENCE,
) -> list[FamilyBias]:
    """Mean residual (human - fitted prediction) per codec family, with a bootstrap interval over images.

    The logistic is fitted once on all families together (the metric's one mapping to the human
    unit); an empty list when that fit fails or no observation has a family.
    """
    kept = _usable(observations, metric)
    _, y, predicted, failed = _residuals(kept, metric, higher_is_better, fit)
    if failed:
        return []
    residual = y - predicted
    out = []
    for family in sorted({o.family for o in kept if o.family is not None}):
        idx = np.array([i for i, o in enumerate(kept) if o.family == family], dtype=np.intp)
        values = residual[idx]
        ci = None
        if n_bootstrap > 0:
            resampling = bootstrap.ImageBootstrap([kept[i].image for i in idx], n_bootstrap, seed)
            ci = bootstrap.percentile_interval(resampling.mean(values), confidence)
        out.append(FamilyBias(family, int(idx.size), float(values.mean()), ci))
    return out
