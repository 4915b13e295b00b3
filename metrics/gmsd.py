"""GMSD: gradient magnitude similarity deviation (Xue, Zhang, Mou, Bovik, IEEE TIP 2014).

Follows the authors' ``GMSD.m`` on 8-bit grey input (MATLAB ``rgb2gray``, as in pyiqa's calibration
of the official values): 2x2 mean then keep every other sample (zero extension at the
bottom/right for odd sizes, as ``conv2(..., 'same')``), Prewitt gradients with zero padding,
similarity map with T = 170 (on the 0..255 scale), score = standard deviation of the map (N-1).
Lower is better; 0 for identical images.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from metrics.base import FunctionMetric
from metrics.colour import gray8

GMSD_T = 170.0 / 255.0**2  # the paper's T = 170 on 8-bit values, rescaled to [0, 1] data
_PREWITT_X = torch.tensor([[1.0, 0.0, -1.0]] * 3) / 3.0


def _downsample(y: torch.Tensor) -> torch.Tensor:
    pad_h, pad_w = y.shape[2] % 2, y.shape[3] % 2
    if pad_h or pad_w:
        y = F.pad(y, [0, pad_w, 0, pad_h])  # zeros, like conv2 'same' with a 2x2 kernel
    return F.avg_pool2d(y, kernel_size=2)


def gradient_magnitude(y: torch.Tensor) -> torch.Tensor:
    """Prewitt gradient magnitude of (N,1,H,W) grey images, zero padding."""
    kx = _PREWITT_X.to(y)
    kernels = torch.stack([kx, kx.t()]).unsqueeze(1)
    g = F.conv2d(y, kernels, padding=1)
    return torch.sqrt(g[:, :1] ** 2 + g[:, 1:] ** 2)


def gmsd(reference: torch.Tensor, distorted: torch.Tensor) -> torch.Tensor:
    """Per-image GMSD of grey ``distorted`` (N,1,H,W) against grey ``reference`` (1,1,H,W) in [0, 1]."""
    g_ref = gradient_magnitude(_downsample(reference))
    g_dist = gradient_magnitude(_downsample(distorted))
    similarity = (2 * g_ref * g_dist + GMSD_T) / (g_ref**2 + g_dist**2 + GMSD_T)
    flat = similarity.flatten(1)
    if flat.shape[1] < 2:
        return torch.zeros(flat.shape[0], dtype=flat.dtype)
    return flat.std(dim=1)


class GMSD(FunctionMetric):
    name = "gmsd"
    unit = "index"
    reference = "Xue et al. 2014, the authors' GMSD.m: official values on pyiqa's calibration pairs, within 1%"
    higher_is_better = False
    value_range = (0.0, 1.0)
    description = "GMSD on 8-bit grey (MATLAB rgb2gray), T = 170, as the authors' GMSD.m; lower is better"
    colour = "luma"
    min_size = 4  # the deviation needs a 2x2 map after the 2x2 downsampling
    function = staticmethod(gmsd)
    convert = staticmethod(gray8)
