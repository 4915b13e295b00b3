"""Score reconstructions against a reference with a selection of metrics."""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

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


def score(reference: np.ndarray, distorted: list[np.ndarray], metrics: Iterable[Metric]) -> list[dict[str, Score]]:
    """Scores of every image in ``distorted`` against ``reference`` for each of ``metrics`` (instances,
    e.g. from ``metrics.registry.build_metrics``), keyed by metric name in the order given.

    Never returns NaN or infinity: a metric that is unavailable, not applicable to the image size,
    fails (e.g. its external tool errors), or yields a non-finite value gives ``Score(None, reason)``.
    """
    if not distorted:
        return []
    for d in distorted:
        if d.shape != reference.shape:
            raise ValueError(f"shape mismatch: reference {reference.shape}, distorted {d.shape}")
    height, width = reference.shape[:2]
    ref = to_tensor(reference)
    dist = torch.cat([to_tensor(d) for d in distorted])
    out: list[dict[str, Score]] = [{} for _ in distorted]
    for metric in metrics:
        name = metric.name
        availability = metric.availability()
        reason = availability.reason if not availability.available else metric.not_applicable(height, width)
        if reason is not None:
            for row in out:
                row[name] = Score(None, reason)
            continue
        try:
            with torch.no_grad():
                values = metric.compute(ref, dist)
        except (RuntimeError, ValueError, OSError) as exc:  # a failing metric must not sink the others
            for row in out:
                row[name] = Score(None, f"{name} failed: {exc}")
            continue
        note = metric.value_note()
        for row, value in zip(out, values):
            row[name] = Score(value, None, note) if math.isfinite(value) else Score(None, f"{name} is undefined here")
    return out
