"""Separable Gaussian filtering on the 'valid' region, the window the SSIM and VIF papers use.

``gaussian_window_1d(size, sigma)`` is the 1-D factor of MATLAB's ``fspecial('gaussian', size,
sigma)`` (the window of the authors' ``ssim_index.m`` and of ``vifp_mscale.m``); filtering with its
outer product equals filtering rows then columns with it, which costs 2k instead of k^2 per pixel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gaussian_window_1d(size: int = 11, sigma: float = 1.5, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Normalised 1-D Gaussian of ``size`` taps; its outer product is ``fspecial('gaussian', size, sigma)``."""
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return (g / g.sum()).to(dtype)


def gaussian_filter(x: torch.Tensor, window: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """Filter every channel of ``x`` (N,C,H,W) with the separable 2-D window ``window`` x ``window``,
    keeping the 'valid' region (no padding, MATLAB's ``filter2(..., 'valid')``) and every
    ``stride``-th sample in each direction."""
    channels, k = x.shape[1], window.numel()
    x = F.conv2d(x, window.view(1, 1, 1, k).expand(channels, 1, 1, k), stride=(1, stride), groups=channels)
    return F.conv2d(x, window.view(1, 1, k, 1).expand(channels, 1, k, 1), stride=(stride, 1), groups=channels)
