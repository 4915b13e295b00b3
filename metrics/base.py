"""The metric contract: name, direction, range, input needs and a batched compute."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from models.base import Availability

# Codecs and metrics share one availability type: ``available``, and ``reason`` naming exactly what
# is missing when it is not.
MetricAvailability = Availability


@dataclass(frozen=True)
class MetricContext:
    """What a metric needs from its environment, passed in explicitly (no global settings here).

    ``weights_dir`` holds the ImageNet backbones of the learned metrics under torchvision's file
    names; ``device`` is where learned metrics run. ``trusted_sha256`` maps a weights file name to a
    full SHA-256 accepted *in addition* to the published hash prefix in that file name: tests use it
    to exercise the loading code with random weights of the same architecture saved under the
    expected name. Production leaves it empty, so only the published weights pass.
    """

    weights_dir: Path = Path("weights")
    device: str = "cpu"
    # Display model of the metrics that model an observer (cvvdp, flip): metrics/viewing.py.
    display: str = "standard_4k"
    trusted_sha256: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


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
    unit: str = ""  # what a value counts, e.g. "dB", "JOD"; empty for a unitless index
    reference: str = ""  # the paper or implementation our values are checked against
    min_size: int = 1  # smallest accepted height and width
    colour: str = "RGB"  # what the metric looks at: "RGB", "luma" (a Y channel) or "XYB"

    def __init__(self, context: MetricContext | None = None) -> None:
        self.context = context or MetricContext()

    @property
    def device(self) -> str:
        """Where the metric computes (learned metrics follow the context; the rest run on CPU)."""
        return "cpu"

    def availability(self) -> MetricAvailability:
        """Cheap check (no model loading) of whether the metric can run here."""
        return MetricAvailability(True)

    def value_note(self) -> str | None:
        """What every value depends on besides the images (e.g. the viewing condition), stored
        beside each value; None when nothing."""
        return None

    def not_applicable(self, height: int, width: int) -> str | None:
        """Why the metric is undefined for an image of this size, or None when it applies."""
        if min(height, width) < self.min_size:
            return f"{self.name} needs images of at least {self.min_size}x{self.min_size} pixels (got {width}x{height})"
        return None

    @abstractmethod
    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        """Scores of each distorted image against the reference."""

    def prepare(self, reference: torch.Tensor) -> Any:
        """The reference-side work (colour conversion, filtered moments, pyramids, network features)
        done once, for :meth:`score_many` calls on any number of reconstructions of that reference.

        Default: the reference itself, and ``score_many`` falls back to :meth:`compute`. A metric
        overriding one of the pair overrides both (pyiqa and piq recompute the reference per call).
        """
        return reference

    def score_many(self, prepared: Any, distorted: torch.Tensor) -> list[float]:
        """Scores of each distorted image (N,3,H,W) against a reference prepared by :meth:`prepare`;
        equal to ``compute(reference, distorted)``."""
        return self.compute(prepared, distorted)


def rgb(image: torch.Tensor) -> torch.Tensor:
    """The input as given: float RGB (N,3,H,W) in [0, 1]."""
    return image


class FunctionMetric(Metric):
    """A metric that is one batched pure function plus a thin wrapper, as in piq
    (``ssim(x, y)`` and ``SSIMLoss``): subclasses declare ``function`` (reference (1,C,H,W) and
    distorted (N,C,H,W) -> one value per image) and ``convert``, the colour conversion applied to
    both inputs first (default: RGB in [0, 1] as given). Both are set with ``staticmethod(...)``."""

    # Typed as staticmethod objects (not Callable), so a type checker reads ``self.function`` unbound.
    function: ClassVar[staticmethod[..., torch.Tensor]]
    convert: ClassVar[staticmethod[[torch.Tensor], torch.Tensor]] = staticmethod(rgb)
    # Optional split of ``function`` for reference reuse: ``reference_function(ref)`` does the
    # reference-side work once, ``prepared_function(prepared, distorted)`` the rest; both set together.
    reference_function: ClassVar[staticmethod[..., Any] | None] = None
    prepared_function: ClassVar[staticmethod[..., torch.Tensor] | None] = None

    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        return self.score_many(self.prepare(reference), distorted)

    def prepare(self, reference: torch.Tensor) -> Any:
        converted = self.convert(reference)
        return converted if self.reference_function is None else self.reference_function(converted)

    def score_many(self, prepared: Any, distorted: torch.Tensor) -> list[float]:
        function = self.function if self.prepared_function is None else self.prepared_function
        return [float(v) for v in function(prepared, self.convert(distorted))]
