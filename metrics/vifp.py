"""VIFp: the pixel-domain version of Visual Information Fidelity (Sheikh, Bovik, IEEE TIP 2006).

Same definition and constants as ``piq.vif_p`` (luma Y = 0.299 R + 0.587 G + 0.114 B on the
0..255 scale, four scales with Gaussian windows of 17, 9, 5, 3 taps and sigma = taps / 5, each
coarser scale filtered then decimated by 2, sigma_n^2 = 2, 'valid' statistics), computed with
separable filters, and with the reference's pyramid, local statistics and the denominator (the
reference's information content) computed once per batch.

This is *not* the wavelet-domain VIF of the authors' ``vifvec.m`` (steerable pyramid, GSM model);
the two give different numbers (e.g. 0.07 vs 0.017 on a heavily distorted pair). That index is
``vif`` (metrics/vif.py); this one is ``vifp`` (until 2026-11-28 it was registered as ``vif``).
"""

from __future__ import annotations

import torch

from metrics.base import FunctionMetric
from metrics.colour import luma
from metrics.functional import gaussian_filter, gaussian_window_1d

VIFP_MIN_SIZE = 41  # the coarsest of the four scales still needs room for its window
SIGMA_N_SQ = 2.0
_EPS = 1e-8


def luma255(rgb: torch.Tensor) -> torch.Tensor:
    """BT.601 luma on the 0..255 scale (piq's ``vif_p`` input), not rounded."""
    return luma(rgb) * 255


def vif_p(reference: torch.Tensor, distorted: torch.Tensor, sigma_n_sq: float = SIGMA_N_SQ) -> torch.Tensor:
    """Per-image VIFp of grey ``distorted`` (N,1,H,W) against grey ``reference`` (1,1,H,W), 0..255 scale."""
    # Only variances and covariances enter VIF, so centring on mid-grey changes nothing in exact
    # arithmetic but removes most of float32's cancellation in E[x^2] - E[x]^2.
    ref, dist = reference - 128.0, distorted - 128.0
    numerator = torch.zeros(dist.shape[0], dtype=dist.dtype)
    denominator = torch.zeros((), dtype=dist.dtype)
    for scale in range(4):
        size = 2 ** (4 - scale) + 1
        window = gaussian_window_1d(size, size / 5, dtype=dist.dtype)
        if scale > 0:
            ref, dist = gaussian_filter(ref, window, stride=2), gaussian_filter(dist, window, stride=2)
        mu_r = gaussian_filter(ref, window)
        sigma_r = torch.relu(gaussian_filter(ref * ref, window) - mu_r * mu_r)
        stacked = gaussian_filter(torch.cat([dist, dist * dist, dist * ref], dim=1), window)
        mu_d, d_sq, d_r = stacked[:, 0:1], stacked[:, 1:2], stacked[:, 2:3]
        sigma_d = torch.relu(d_sq - mu_d * mu_d)
        sigma_dr = d_r - mu_d * mu_r
        # Gain g and residual noise sigma_v^2 of the model dist = g * ref + v, with piq's guards.
        ref_flat, dist_flat = sigma_r < _EPS, sigma_d < _EPS
        g = sigma_dr / (sigma_r + _EPS)
        sigma_v = sigma_d - g * sigma_dr
        g = torch.where(ref_flat, torch.zeros_like(g), g)
        sigma_v = torch.where(ref_flat, sigma_d, sigma_v)
        sigma_r_used = torch.where(ref_flat, torch.zeros_like(sigma_r), sigma_r)
        g = torch.where(dist_flat, torch.zeros_like(g), g)
        sigma_v = torch.where(dist_flat, torch.zeros_like(sigma_v), sigma_v)
        sigma_v = torch.where(g >= 0, sigma_v, sigma_d)
        g = torch.relu(g)
        sigma_v = torch.clamp_min(sigma_v, _EPS)
        numerator += torch.log10(1.0 + g * g * sigma_r_used / (sigma_v + sigma_n_sq)).sum(dim=(1, 2, 3))
        denominator = denominator + torch.log10(1.0 + sigma_r_used / sigma_n_sq).sum()
    return (numerator + _EPS) / (denominator + _EPS)


class VIFp(FunctionMetric):
    name = "vifp"
    unit = "index"
    reference = "piq.vif_p, equal on random images"
    higher_is_better = True
    value_range = (0.0, 1.0)  # can exceed 1 for contrast-enhanced images
    description = (
        "VIFp: pixel-domain Visual Information Fidelity on luma (piq's definition), not the wavelet-domain VIF"
    )
    min_size = VIFP_MIN_SIZE
    colour = "luma"
    function = staticmethod(vif_p)
    convert = staticmethod(luma255)
