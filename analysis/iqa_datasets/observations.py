"""From a read data set and its metric values to the correlation engine's inputs."""

from __future__ import annotations

from collections.abc import Mapping

from analysis.correlation import Observation, TwoAFCPair
from analysis.iqa_datasets.base import DatasetIndex

MetricValues = Mapping[str, float | None]


def dataset_observations(index: DatasetIndex, values: Mapping[str, MetricValues]) -> list[Observation]:
    """One ``Observation`` per distorted image that has metric values (``values[path]``, path as in the index).

    The human score is oriented higher = better (DMOS lower-is-better negated); the source image is the
    reference (the bootstrap resamples references); ``distortion`` feeds the per-distortion breakdown.
    """
    sign = 1.0 if index.higher_is_better else -1.0
    return [
        Observation(dict(values[d.path]), sign * d.score, d.reference, d.path, distortion=d.distortion)
        for d in index.distorted
        if d.path in values
    ]


def dataset_two_afc_pairs(index: DatasetIndex, values: Mapping[str, MetricValues], metric: str) -> list[TwoAFCPair]:
    """2AFC pairs of ``metric`` for a triplet data set: A's and B's value against the original, people's
    choice, grouped by original. ``values`` is keyed by the reconstruction's path (scored against O);
    triplets with a missing value are left out."""
    pairs = []
    for t in index.triplets:
        a, b = values.get(t.a, {}).get(metric), values.get(t.b, {}).get(metric)
        if a is not None and b is not None:
            pairs.append(TwoAFCPair(a, b, t.prefers_a, t.original))
    return pairs
