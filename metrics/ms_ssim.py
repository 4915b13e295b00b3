"""MS-SSIM (Wang, Simoncelli, Bovik 2003) on RGB, computed with piq."""
from __future__ import annotations

import piq
import torch

from metrics.base import Metric

# Five scales with an 11x11 window: the coarsest scale must still hold the window.
MS_SSIM_MIN_SIZE = 161


class MSSSIM(Metric):
    name = "ms-ssim"
    higher_is_better = True
    value_range = (0.0, 1.0)
    description = "MS-SSIM on RGB (channel mean), Gaussian window 11 sigma 1.5, 5 scales (piq)"
    min_size = MS_SSIM_MIN_SIZE

    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        ref = reference.expand_as(distorted)
        values = piq.multi_scale_ssim(distorted, ref, data_range=1.0, reduction="none")
        return [float(v) for v in values]
