"""The metric contract: name, direction, range, input needs and a batched compute."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class MetricAvailability:
    """Whether a metric can run here; ``reason`` names exactly what is missing when it cannot."""

    available: bool
    reason: str | None = None


class Metric(ABC):
    """A full-reference quality metric.

    ``compute`` takes one reference (1,3,H,W) and N distorted images (N,3,H,W), both float32 RGB in
    [0, 1] holding 8-bit values (k/255), and returns N floats. Batching against one reference lets a
    metric reuse reference-side work.
    """

    name: str
    higher_is_better: bool
    value_range: tuple[float, float]
    description: str = ""
    min_size: int = 1  # smallest accepted height and width

    def availability(self) -> MetricAvailability:
        """Cheap check (no model loading) of whether the metric can run here."""
        return MetricAvailability(True)

    def not_applicable(self, height: int, width: int) -> str | None:
        """Why the metric is undefined for an image of this size, or None when it applies."""
        if min(height, width) < self.min_size:
            return f"{self.name} needs images of at least {self.min_size}x{self.min_size} pixels (got {width}x{height})"
        return None

    @abstractmethod
    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        """Scores of each distorted image against the reference."""
