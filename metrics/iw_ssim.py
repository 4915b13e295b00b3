"""IW-SSIM: information content weighted SSIM (Wang and Li, IEEE TIP 20(5), 2011).

Five-scale SSIM whose local maps are pooled with weights equal to the information content of the
reference (a GSM model on a Laplacian pyramid, 3x3 blocks with the parent coefficient,
sigma_n^2 = 0.4), scale weights of MS-SSIM, on the grey image the authors' code takes (MATLAB
``rgb2gray`` of the 8-bit RGB), in float64. Computed by ``metrics.functional.iw_ssim``: the algorithm
of piq's ``information_weighted_ssim`` (which follows the authors' ``iwssim.m``, iwssim_iwpsnr.zip)
with separable windows and the reference-side work (pyramid, windowed moments, neighbourhood
covariance and its quadratic forms) done once per reference; equal to piq's values to 1e-9 (tested).

Not validated against the authors' values here: pyiqa, the suite our other official checks come
from, has no ``iw_ssim`` (0.1.16, its newest release on PyPI, lists none) and no official IW-SSIM
values for its calibration pairs exist; the metric's description says so.
"""

from __future__ import annotations

import torch

from metrics.base import Metric
from metrics.colour import gray8
from metrics.functional.iw_ssim import PreparedIWSSIM, iw_ssim_prepared, prepare_reference

# Five scales of an 11-tap window: piq refuses anything smaller (as MS-SSIM).
IW_SSIM_MIN_SIZE = 161


class IWSSIM(Metric):
    name = "iw-ssim"
    unit = "index"
    higher_is_better = True
    value_range = (0.0, 1.0)
    reference = (
        "Wang and Li 2011 (iwssim.m); equal to piq.information_weighted_ssim to 1e-9; "
        "not validated against official values (pyiqa has no iw_ssim)"
    )
    description = (
        "IW-SSIM (Wang and Li 2011): information-content weighted multi-scale SSIM on "
        "MATLAB rgb2gray luma, equal to piq's implementation; not validated against the authors' values"
    )
    min_size = IW_SSIM_MIN_SIZE
    colour = "luma"

    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        return self.score_many(self.prepare(reference), distorted)

    def prepare(self, reference: torch.Tensor) -> PreparedIWSSIM:
        return prepare_reference(gray8(reference).double())

    def score_many(self, prepared: PreparedIWSSIM, distorted: torch.Tensor) -> list[float]:
        return [float(v) for v in iw_ssim_prepared(prepared, gray8(distorted).double())]
