"""FLIP (Andersson et al., "FLIP: A Difference Evaluator for Alternating Images", HPG 2020):
NVIDIA's perceptual error of an LDR image against its reference, an error map in [0, 1] and its
mean (lower is better; 0 = identical).

Computed by NVIDIA's ``flip-evaluator`` package (``flip_evaluator.evaluate``, its compiled
reference implementation), on sRGB inputs in [0, 1]. FLIP depends on the pixels per degree of the
observer: they come from the display model of the ``MetricContext`` (metrics/viewing.py; FLIP's own
default would be 67 ppd, a 0.7 m wide 4K display at 0.7 m) and go with each value as its note.
``flip_error_map`` keeps the per-pixel map available (e.g. for a result viewer).
"""

from __future__ import annotations

import numpy as np
import torch

from metrics.base import Metric, MetricAvailability
from metrics.viewing import DEFAULT_DISPLAY, missing_display, viewing_condition

# FLIP's filters need a few pixels; a 1x1 image has no spatial error to speak of.
FLIP_MIN_SIZE = 2


def _hwc(image: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().squeeze(0).permute(1, 2, 0).numpy()
    if image.dtype == np.uint8:
        image = image.astype(np.float32) / 255.0
    return np.ascontiguousarray(image, dtype=np.float32)


def flip_error_map(
    reference: torch.Tensor | np.ndarray, distorted: torch.Tensor | np.ndarray, pixels_per_degree: float | None = None
) -> tuple[np.ndarray, float]:
    """FLIP's per-pixel error map (H,W float32 in [0, 1]) and its mean for one LDR sRGB pair.

    Images are (1,3,H,W)/(3,H,W) tensors in [0, 1] or HxWx3 uint8/float arrays. Pixels per degree
    default to those of the default display model (metrics/viewing.py).
    """
    import flip_evaluator

    ppd = pixels_per_degree if pixels_per_degree is not None else viewing_condition(DEFAULT_DISPLAY).pixels_per_degree
    error_map, mean, _ = flip_evaluator.evaluate(
        _hwc(reference),
        _hwc(distorted),
        "LDR",
        inputsRGB=True,
        applyMagma=False,
        computeMeanError=True,
        parameters={"ppd": float(ppd)},
    )
    return np.asarray(error_map, dtype=np.float32).reshape(error_map.shape[:2]), float(mean)


class FLIP(Metric):
    name = "flip"
    higher_is_better = False
    value_range = (0.0, 1.0)
    unit = "mean FLIP error"
    reference = "FLIP (Andersson et al. 2020), NVIDIA's flip-evaluator package (flip_evaluator.evaluate)"
    description = (
        "NVIDIA FLIP, mean of the perceptual error map (LDR, sRGB; lower is better); "
        "pixels per degree from the display model, recorded with each value"
    )
    min_size = FLIP_MIN_SIZE

    def availability(self) -> MetricAvailability:
        try:
            import flip_evaluator  # noqa: F401
        except ImportError:
            return MetricAvailability(False, "the flip-evaluator package (NVIDIA FLIP) is not installed")
        reason = missing_display(self.context.display)
        return MetricAvailability(reason is None, reason)

    @property
    def pixels_per_degree(self) -> float:
        return viewing_condition(self.context.display).pixels_per_degree

    def value_note(self) -> str | None:
        return viewing_condition(self.context.display).note()

    def error_map(self, reference: torch.Tensor, distorted: torch.Tensor) -> np.ndarray:
        """The per-pixel FLIP error (H,W) of one distorted image (1,3,H,W) against the reference."""
        return flip_error_map(reference, distorted, self.pixels_per_degree)[0]

    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        ppd = self.pixels_per_degree
        return [flip_error_map(reference, d[None], ppd)[1] for d in distorted]
