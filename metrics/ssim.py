"""SSIM (Wang, Bovik, Sheikh, Simoncelli 2004) and MS-SSIM (Wang, Simoncelli, Bovik 2003).

Gaussian window 11x11, sigma 1.5, K1 = 0.01, K2 = 0.03, statistics over the 'valid' region (no
padding), as in the authors' ``ssim_index.m`` / ``msssim.m``. Inputs are float RGB in [0, 1].

Three registered variants, each with the colour handling of the figures it is compared with:

* ``ssim``: on 8-bit grey (MATLAB ``rgb2gray``, BT.601 luma rounded to integers) without the
  automatic downsampling of the later ``ssim.m``: the convention of the official values in pyiqa's
  calibration table.
* ``ms-ssim``: on RGB, per channel then averaged, with piq's odd-size handling (replicate padding at
  the top/left before each 2x2 average) -- identical to ``piq.multi_scale_ssim``.
* ``ms-ssim-y``: on 8-bit grey like ``ssim``, with ``msssim.m``'s downsampling (2x2 mean with
  symmetric extension at the bottom/right, keep every other sample).

Reference-side work (the reference's local means and second moments, its pyramid) is computed
once per call and shared by every distorted image in the batch. Per-scale values are clamped at 0
before the weighted product (as piq does), so strongly anti-correlated images give 0, not NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F

from metrics.base import FunctionMetric
from metrics.colour import gray8
from metrics.functional import gaussian_filter, gaussian_window_1d

WINDOW_SIZE = 11
WINDOW_SIGMA = 1.5
K1, K2 = 0.01, 0.03
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
# Five scales with an 11x11 window: the coarsest scale (1/16) must still hold the window.
MS_SSIM_MIN_SIZE = (WINDOW_SIZE - 1) * 2 ** (len(MS_SSIM_WEIGHTS) - 1) + 1  # 161


@dataclass
class ReferenceStats:
    """Local mean and second moment of the reference at one scale (shared across the batch)."""

    image: torch.Tensor
    mu: torch.Tensor
    sigma_sq: torch.Tensor

    @classmethod
    def of(cls, reference: torch.Tensor, window: torch.Tensor) -> ReferenceStats:
        mu = gaussian_filter(reference, window)
        return cls(reference, mu, gaussian_filter(reference * reference, window) - mu * mu)


def ssim_and_cs(
    ref: ReferenceStats, distorted: torch.Tensor, window: torch.Tensor, data_range: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean SSIM and mean contrast-structure term per image and channel, each (N, C)."""
    c1 = (K1 * data_range) ** 2
    c2 = (K2 * data_range) ** 2
    channels = distorted.shape[1]
    # One filtering pass over [x, x^2, x*y] for the whole batch.
    stacked = torch.cat([distorted, distorted * distorted, distorted * ref.image], dim=1)
    blurred = gaussian_filter(stacked, window)
    mu_d, d_sq, d_r = blurred.split(channels, dim=1)
    sigma_d = d_sq - mu_d * mu_d
    sigma_dr = d_r - mu_d * ref.mu
    cs_map = (2 * sigma_dr + c2) / (sigma_d + ref.sigma_sq + c2)
    luminance = (2 * mu_d * ref.mu + c1) / (mu_d * mu_d + ref.mu * ref.mu + c1)
    return (luminance * cs_map).mean(dim=(2, 3)), cs_map.mean(dim=(2, 3))


def _halve_piq(x: torch.Tensor) -> torch.Tensor:
    """piq's MS-SSIM downsampling: replicate-pad top/left by one when either side is odd, 2x2 mean."""
    pad = max(x.shape[2] % 2, x.shape[3] % 2)
    if pad:
        x = F.pad(x, [pad, 0, pad, 0], mode="replicate")
    return F.avg_pool2d(x, kernel_size=2)


def _halve_matlab(x: torch.Tensor) -> torch.Tensor:
    """``msssim.m`` downsampling: 2x2 mean with symmetric extension at bottom/right, every other sample."""
    pad_h, pad_w = x.shape[2] % 2, x.shape[3] % 2
    if pad_h or pad_w:
        x = F.pad(x, [0, pad_w, 0, pad_h], mode="replicate")
    return F.avg_pool2d(x, kernel_size=2)


def ssim_reference(reference: torch.Tensor) -> ReferenceStats:
    """The reference side of :func:`ssim` (local mean and variance), computed once per reference."""
    return ReferenceStats.of(reference, gaussian_window_1d(WINDOW_SIZE, WINDOW_SIGMA, dtype=reference.dtype))


def ssim_prepared(reference: ReferenceStats, distorted: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """:func:`ssim` against a reference prepared by :func:`ssim_reference`."""
    window = gaussian_window_1d(WINDOW_SIZE, WINDOW_SIGMA, dtype=distorted.dtype)
    value, _ = ssim_and_cs(reference, distorted, window, data_range)
    return value.mean(dim=1)


def ssim(reference: torch.Tensor, distorted: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Per-image SSIM (channel mean) of ``distorted`` (N,C,H,W) against ``reference`` (1,C,H,W)."""
    return ssim_prepared(ssim_reference(reference), distorted, data_range)


def ms_ssim_reference(
    reference: torch.Tensor, levels: int = len(MS_SSIM_WEIGHTS), halve=_halve_piq
) -> list[ReferenceStats]:
    """The reference side of :func:`multi_scale_ssim`: its pyramid's moments, one entry per scale."""
    window = gaussian_window_1d(WINDOW_SIZE, WINDOW_SIGMA, dtype=reference.dtype)
    pyramid = []
    for level in range(levels):
        if level > 0:
            reference = halve(reference)
        pyramid.append(ReferenceStats.of(reference, window))
    return pyramid


def multi_scale_ssim_prepared(
    pyramid: list[ReferenceStats],
    distorted: torch.Tensor,
    data_range: float = 1.0,
    weights: tuple[float, ...] = MS_SSIM_WEIGHTS,
    halve=_halve_piq,
) -> torch.Tensor:
    """:func:`multi_scale_ssim` against a reference pyramid from :func:`ms_ssim_reference`."""
    window = gaussian_window_1d(WINDOW_SIZE, WINDOW_SIGMA, dtype=distorted.dtype)
    w = torch.tensor(weights, dtype=distorted.dtype).view(-1, 1, 1)
    terms = []
    for level, reference in enumerate(pyramid):
        if level > 0:
            distorted = halve(distorted)
        value, cs = ssim_and_cs(reference, distorted, window, data_range)
        terms.append(cs if level < len(weights) - 1 else value)
    per_channel = torch.prod(torch.relu(torch.stack(terms)) ** w, dim=0)
    return per_channel.mean(dim=1)


def multi_scale_ssim(
    reference: torch.Tensor,
    distorted: torch.Tensor,
    data_range: float = 1.0,
    weights: tuple[float, ...] = MS_SSIM_WEIGHTS,
    halve=_halve_piq,
) -> torch.Tensor:
    """Per-image MS-SSIM (per channel, then channel mean): prod_{s<S} cs_s^w_s * ssim_S^w_S."""
    return multi_scale_ssim_prepared(
        ms_ssim_reference(reference, len(weights), halve), distorted, data_range, weights, halve
    )


class SSIM(FunctionMetric):
    name = "ssim"
    unit = "index"
    reference = "Wang et al. 2004, the authors' ssim_index.m: official values on pyiqa's calibration pairs, within 1%"
    higher_is_better = True
    value_range = (-1.0, 1.0)
    description = (
        "SSIM on 8-bit grey (MATLAB rgb2gray: BT.601 luma, rounded), Gaussian window 11 "
        "sigma 1.5, valid region, no automatic downsampling (authors' ssim_index.m)"
    )
    min_size = WINDOW_SIZE
    colour = "luma"
    function = staticmethod(ssim)
    convert = staticmethod(gray8)
    reference_function = staticmethod(ssim_reference)
    prepared_function = staticmethod(ssim_prepared)


class MSSSIM(FunctionMetric):
    name = "ms-ssim"
    unit = "index"
    reference = "piq.multi_scale_ssim (RGB), equal on random images"
    higher_is_better = True
    value_range = (0.0, 1.0)
    description = "MS-SSIM on RGB (channel mean), Gaussian window 11 sigma 1.5, 5 scales (same values as piq)"
    min_size = MS_SSIM_MIN_SIZE
    function = staticmethod(multi_scale_ssim)
    reference_function = staticmethod(ms_ssim_reference)
    prepared_function = staticmethod(multi_scale_ssim_prepared)


class MSSSIMY(FunctionMetric):
    name = "ms-ssim-y"
    unit = "index"
    reference = "Wang et al. 2003, the authors' msssim.m: official values on pyiqa's calibration pairs, within 1%"
    higher_is_better = True
    value_range = (0.0, 1.0)
    description = (
        "MS-SSIM on 8-bit grey (MATLAB rgb2gray: BT.601 luma, rounded), 5 scales, downsampling as the authors' msssim.m"
    )
    min_size = MS_SSIM_MIN_SIZE
    colour = "luma"
    function = staticmethod(partial(multi_scale_ssim, halve=_halve_matlab))
    reference_function = staticmethod(partial(ms_ssim_reference, halve=_halve_matlab))
    prepared_function = staticmethod(partial(multi_scale_ssim_prepared, halve=_halve_matlab))
    convert = staticmethod(gray8)
