"""2AFC agreement for pairwise human data without a scale (e.g. CLIC 2021 perceptual triplets).

The share of pairs where the metric prefers what people preferred (CLIC 2021 perceptual track
scoring, fab-jul/clic2021-devkit: accuracy on oracle.csv triplets O, A, B, T). A metric tie counts
one half. The 95% interval is a bootstrap over the pairs' groups (the source image O), seeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.correlation import bootstrap


@dataclass(frozen=True)
class TwoAFCPair:
    """One human choice: the metric's value for A and for B, whether people preferred A, its group."""

    metric_a: float | None  # None: the metric could not score this image (the pair is left out)
    metric_b: float | None
    human_prefers_a: bool
    group: str


@dataclass(frozen=True)
class TwoAFC:
    """2AFC agreement: ``share`` of pairs the metric gets right, its ``ci`` and the number of pairs."""

    share: float | None
    ci: list[float] | None
    n: int

    def to_dict(self) -> dict:
        return {"share": self.share, "ci": self.ci, "n": self.n}


def two_afc_agreement(
    pairs: Sequence[TwoAFCPair],
    *,
    higher_is_better: bool = True,
    n_bootstrap: int = bootstrap.DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = bootstrap.CONFIDENCE,
) -> TwoAFC:
    """Share of ``pairs`` where the metric (oriented by ``higher_is_better``) prefers the human choice.

    Pairs with a missing (None/NaN) metric value are left out. Returns ``share=None`` when no pair is left.
    """
    kept = [
        p
        for p in pairs
        if p.metric_a is not None and p.metric_b is not None and np.isfinite(p.metric_a) and np.isfinite(p.metric_b)
    ]
    if not kept:
        return TwoAFC(None, None, 0)
    sign = 1.0 if higher_is_better else -1.0
    a = sign * np.array([p.metric_a for p in kept], dtype=np.float64)
    b = sign * np.array([p.metric_b for p in kept], dtype=np.float64)
    human_a = np.array([p.human_prefers_a for p in kept], dtype=bool)
    metric_a = a > b
    correct = np.where(a == b, 0.5, (metric_a == human_a).astype(np.float64))
    ci = None
    if n_bootstrap > 0:
        resampling = bootstrap.ImageBootstrap([p.group for p in kept], n_bootstrap, seed)
        ci = bootstrap.percentile_interval(resampling.mean(correct), confidence)
    return TwoAFC(float(correct.mean()), ci, len(kept))
