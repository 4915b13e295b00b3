"""Score reconstructions against a reference with a selection of metrics.

The reference-side work of every metric (colour conversion, filtered moments, pyramids, network
features, the libvmaf reference frame) is done once by :func:`prepare_reference`; :func:`score_prepared`
then scores reconstructions as they arrive (one rate point at a time in the benchmark task) or as one
batch. :func:`score` is both in one call.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from metrics.base import Metric


@dataclass(frozen=True)
class Score:
    """One metric's outcome: a finite value, or None with the reason it is not available/applicable.

    ``note`` goes with a value that depends on more than the images (``Metric.value_note``, e.g.
    the display model and pixels per degree of cvvdp and flip).
    """

    value: float | None
    reason: str | None = None
    note: str | None = None


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 HxWx3 -> float32 (1,3,H,W) in [0, 1]."""
    array = image if image.flags.writeable and image.flags.c_contiguous else np.array(image)
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).float().div(255.0)


@dataclass
class PreparedReference:
    """One reference with each metric's reference-side work done (``Metric.prepare``), ready to
    score any number of reconstructions, one call at a time or as a batch. ``skipped`` holds the
    reason of each metric that cannot score this reference (unavailable, not applicable to its size,
    or its preparation failed)."""

    reference: np.ndarray
    metrics: list[Metric]
    prepared: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _check_shapes(reference: np.ndarray, distorted: list[np.ndarray]) -> None:
    for d in distorted:
        if d.shape != reference.shape:
            raise ValueError(f"shape mismatch: reference {reference.shape}, distorted {d.shape}")


def prepare_reference(reference: np.ndarray, metrics: Iterable[Metric]) -> PreparedReference:
    """Do every metric's reference-side work on ``reference`` (uint8 HxWx3) once."""
    prepared = PreparedReference(reference, list(metrics))
    height, width = reference.shape[:2]
    ref = to_tensor(reference)
    for metric in prepared.metrics:
        availability = metric.availability()
        reason = availability.reason if not availability.available else metric.not_applicable(height, width)
        if reason is None:
            try:
                with torch.no_grad():
                    prepared.prepared[metric.name] = metric.prepare(ref)
            except (RuntimeError, ValueError, OSError) as exc:  # a failing metric must not sink the others
                reason = f"{metric.name} failed: {exc}"
        if reason is not None:
            prepared.skipped[metric.name] = reason
    return prepared


def score_prepared(prepared: PreparedReference, distorted: list[np.ndarray]) -> list[dict[str, Score]]:
    """Scores of every image in ``distorted`` against a prepared reference, keyed by metric name in
    the order the metrics were given; the same values as :func:`score` on the raw reference.

    Never returns NaN or infinity: a metric that is unavailable, not applicable to the image size,
    fails (e.g. its external tool errors), or yields a non-finite value gives ``Score(None, reason)``.
    """
    if not distorted:
        return []
    _check_shapes(prepared.reference, distorted)
    dist = torch.cat([to_tensor(d) for d in distorted])
    out: list[dict[str, Score]] = [{} for _ in distorted]
    for metric in prepared.metrics:
        name = metric.name
        reason = prepared.skipped.get(name)
        if reason is None:
            try:
                with torch.no_grad():
                    values = metric.score_many(prepared.prepared[name], dist)
            except (RuntimeError, ValueError, OSError) as exc:  # a failing metric must not sink the others
                reason = f"{name} failed: {exc}"
        if reason is not None:
            for row in out:
                row[name] = Score(None, reason)
            continue
        note = metric.value_note()
        for row, value in zip(out, values):
            row[name] = Score(value, None, note) if math.isfinite(value) else Score(None, f"{name} is undefined here")
    return out


def score(reference: np.ndarray, distorted: list[np.ndarray], metrics: Iterable[Metric]) -> list[dict[str, Score]]:
    """Scores of every image in ``distorted`` against ``reference`` for each of ``metrics`` (instances,
    e.g. from ``metrics.registry.build_metrics``), keyed by metric name in the order given: one
    :func:`prepare_reference` and one batched :func:`score_prepared`.

    Never returns NaN or infinity: a metric that is unavailable, not applicable to the image size,
    fails (e.g. its external tool errors), or yields a non-finite value gives ``Score(None, reason)``.
    """
    if not distorted:
        return []
    _check_shapes(reference, distorted)
    return score_prepared(prepare_reference(reference, metrics), distorted)
