"""FSIMc: feature similarity with chrominance (Zhang, Zhang, Mou, Zhang, IEEE TIP 2011).

Phase congruency from log-Gabor filters (4 scales x 4 orientations) on luma plus Scharr gradient
magnitude, chromatic term on the I and Q channels of YIQ, constants T1..T4 = 0.85, 160, 200, 200
and lambda = 0.03; images are first box-averaged by round(min(H, W) / 256) as the authors' FSIM.m
does. Built from piq's own pieces (filters, phase congruency, similarity maps), so values equal
``piq.fsim``; the reference's filters, phase congruency and gradients are computed once per batch.
Matches the authors' values on pyiqa's calibration pairs (see tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from piq.fsim import _construct_filters, _phase_congruency
from piq.functional import gradient_map, rgb2yiq, scharr_filter, similarity_map

from metrics.base import FunctionMetric

T1, T2, T3, T4, LAMBDA = 0.85, 160.0, 200.0, 200.0, 0.03


def _features(images: torch.Tensor, filters: torch.Tensor, kernels: torch.Tensor):
    """(phase congruency, gradient magnitude, I, Q) of YIQ images on the 0..255 scale."""
    luma = images[:, :1]
    pc = _phase_congruency(luma, filters=filters, scales=4, orientations=4, k=2.0)
    return pc, gradient_map(luma, kernels), images[:, 1:2], images[:, 2:3]


@dataclass(frozen=True)
class FSIMReference:
    """The reference side of FSIMc: box size, log-Gabor filters, Scharr kernels and the reference's
    (phase congruency, gradient magnitude, I, Q), computed once per reference."""

    kernel_size: int
    filters: torch.Tensor
    kernels: torch.Tensor
    features: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def fsim_reference(reference: torch.Tensor) -> FSIMReference:
    """Prepare RGB ``reference`` (1,3,H,W) in [0, 1] for :func:`fsim_prepared`."""
    kernel_size = max(1, round(min(reference.shape[-2:]) / 256))
    ref = rgb2yiq(F.avg_pool2d(reference * 255, kernel_size))
    filters = _construct_filters(
        ref[:, :1], scales=4, orientations=4, min_length=6, mult=2, sigma_f=0.55, delta_theta=1.2
    )
    scharr = scharr_filter(device=ref.device, dtype=ref.dtype)
    kernels = torch.stack([scharr, scharr.transpose(-1, -2)])
    return FSIMReference(kernel_size, filters, kernels, _features(ref, filters, kernels))


def fsim_prepared(reference: FSIMReference, distorted: torch.Tensor) -> torch.Tensor:
    """Per-image FSIMc of RGB ``distorted`` (N,3,H,W) in [0, 1] against a prepared reference."""
    dist = rgb2yiq(F.avg_pool2d(distorted * 255, reference.kernel_size))
    pc_r, gm_r, i_r, q_r = reference.features
    pc_d, gm_d, i_d, q_d = _features(dist, reference.filters, reference.kernels)
    pc_max = torch.maximum(pc_d, pc_r)
    score = similarity_map(gm_d, gm_r, T2) * similarity_map(pc_d, pc_r, T1) * pc_max
    score = score * torch.abs(similarity_map(i_d, i_r, T3) * similarity_map(q_d, q_r, T4)) ** LAMBDA
    return score.sum(dim=(1, 2, 3)) / pc_max.sum(dim=(1, 2, 3))


def fsim(reference: torch.Tensor, distorted: torch.Tensor) -> torch.Tensor:
    """Per-image FSIMc of RGB ``distorted`` (N,3,H,W) against ``reference`` (1,3,H,W) in [0, 1]."""
    return fsim_prepared(fsim_reference(reference), distorted)


class FSIM(FunctionMetric):
    name = "fsim"
    unit = "index"
    reference = (
        "Zhang et al. 2011, the authors' FSIM.m (FSIMc): official values on pyiqa's calibration pairs, within 1%"
    )
    higher_is_better = True
    value_range = (0.0, 1.0)
    description = "FSIMc on YIQ (phase congruency + gradient + chroma), as the authors' FSIM.m (piq's pieces)"
    min_size = 8
    function = staticmethod(fsim)
    reference_function = staticmethod(fsim_reference)
    prepared_function = staticmethod(fsim_prepared)
