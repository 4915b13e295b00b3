"""Pairwise comparisons -> Thurstone Case V scale in JOD (interface; body being filled in)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from analysis.subjective.types import Comparison, Scale


def scale_pairwise(
    comparisons: Iterable[Comparison],
    *,
    references: Mapping[str, str],
    n_bootstrap: int = 500,
    seed: int = 0,
    exclude_outliers: bool = True,
    prior: str = "gaussian",
) -> Scale:
    """Thurstone Case V maximum-likelihood scale in JOD per scene (Perez-Ortiz and Mantiuk 2017, pwcmp).

    ``references[scene]`` is the hidden-reference condition of that scene, fixed at 0 JOD; higher is
    better. 95% intervals by bootstrapping observers (``n_bootstrap`` resamples, ``seed``); observers
    flagged by leave-one-out likelihood are kept out when ``exclude_outliers``.
    """
    raise NotImplementedError("scale_pairwise: being implemented (H3a)")
