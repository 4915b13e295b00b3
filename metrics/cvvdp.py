"""ColorVideoVDP (Mantiuk et al., ACM SIGGRAPH 2024): a visible-difference model of colour vision,
calibrated on human quality data, with its output in JOD (just-objectionable differences; 10 = no
visible difference, each unit down = 75% of observers preferring the reference).

Computed by the ``cvvdp`` package itself (``pycvvdp.cvvdp``, its shipped calibrated parameters
``cvvdp_parameters.json`` and display models): nothing is downloaded (only the separate ML
variant, not used here, fetches weights). Images are display-encoded 8-bit sRGB on the display
model of the ``MetricContext`` (default ``standard_4k``, see metrics/viewing.py); the pixels per
degree go with each value as its note. A batch is scored in one call against the one reference.
"""

from __future__ import annotations

import torch

from metrics.base import Metric, MetricAvailability
from metrics.viewing import missing_display, viewing_condition

# ColorVideoVDP's Laplacian pyramid fails inside the package on a 1x1 image.
CVVDP_MIN_SIZE = 2


def to_display_encoded(images: torch.Tensor) -> torch.Tensor:
    """float RGB (N,3,H,W) in [0, 1] holding 8-bit values -> uint8 (N,3,1,H,W), cvvdp's BCFHW."""
    return images.mul(255.0).round_().clamp_(0, 255).to(torch.uint8).unsqueeze(2)


class ColorVideoVDP(Metric):
    name = "cvvdp"
    higher_is_better = True
    value_range = (0.0, 10.0)
    unit = "JOD"
    reference = "ColorVideoVDP (Mantiuk et al., SIGGRAPH 2024), the cvvdp package's own cvvdp.predict"
    description = (
        "ColorVideoVDP in JOD (10 = no visible difference), calibrated on human data; "
        "display model and pixels per degree recorded with each value"
    )
    min_size = CVVDP_MIN_SIZE

    def __init__(self, context=None) -> None:
        super().__init__(context)
        self._model = None

    @property
    def device(self) -> str:
        return self.context.device

    def availability(self) -> MetricAvailability:
        reason = missing_display(self.context.display)
        return MetricAvailability(reason is None, reason)

    def value_note(self) -> str | None:
        return viewing_condition(self.context.display).note()

    def _cvvdp(self):
        if self._model is None:
            import pycvvdp

            self._model = pycvvdp.cvvdp(display_name=self.context.display, device=torch.device(self.device), quiet=True)
        return self._model

    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        model = self._cvvdp()
        test = to_display_encoded(distorted).to(self.device)
        ref = to_display_encoded(reference).to(self.device).expand_as(test)
        with torch.no_grad():
            jod, _ = model.predict(test, ref, dim_order="BCFHW")
        return [float(v) for v in torch.atleast_1d(jod).flatten().cpu()]
