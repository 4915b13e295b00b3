"""Colour conversions shared by the metrics, each named after the convention it follows.

Inputs are float RGB tensors (N,3,H,W) in [0, 1] holding 8-bit values.
"""

from __future__ import annotations

import torch

# BT.601 luma weights (Kr, Kg, Kb), as used by JPEG/JFIF and by CompressAI's rgb2ycbcr.
BT601 = (0.299, 0.587, 0.114)
# MATLAB's rgb2gray weights: the first row of the inverse of its NTSC (YIQ) matrix, i.e. BT.601
# luma to 15 digits. The original authors' SSIM/MS-SSIM/VIF/GMSD scripts were run on rgb2gray output.
MATLAB_RGB2GRAY = (0.298936021293775, 0.587043074451121, 0.114020904255103)


def luma(rgb: torch.Tensor, weights: tuple[float, float, float] = BT601) -> torch.Tensor:
    """Full-range luma Y' = Kr R + Kg G + Kb B, in [0, 1], not rounded. (N,3,H,W) -> (N,1,H,W)."""
    kr, kg, kb = weights
    return kr * rgb[:, 0:1] + kg * rgb[:, 1:2] + kb * rgb[:, 2:3]


def gray8(rgb: torch.Tensor) -> torch.Tensor:
    """MATLAB ``rgb2gray`` on uint8 images: BT.601 luma rounded to 8 bits, returned in [0, 1].

    The float64 operations of ``luma`` in the same order (Kr R + Kg G, then + Kb B, x 255, round, / 255),
    done in place on one buffer: the same bits, fewer large temporaries."""
    kr, kg, kb = MATLAB_RGB2GRAY
    d = rgb.double()
    y = d[:, 0:1] * kr
    y += d[:, 1:2] * kg
    y += d[:, 2:3] * kb
    return y.mul_(255.0).round_().div_(255.0).to(rgb.dtype)


def ycbcr_bt709_limited(rgb: torch.Tensor) -> torch.Tensor:
    """8-bit Y'CbCr, BT.709 matrix, limited ("TV") range: Y in [16, 235], Cb/Cr in [16, 240].

    Returned as rounded integer values in a float tensor (N,3,H,W). This is the conversion an
    encoder applies to HD RGB material before VMAF ever sees it.
    """
    kr, kb = 0.2126, 0.0722
    kg = 1.0 - kr - kb
    r, g, b = rgb[:, 0:1].double(), rgb[:, 1:2].double(), rgb[:, 2:3].double()
    y = kr * r + kg * g + kb * b
    cb = (b - y) / (2 * (1 - kb))
    cr = (r - y) / (2 * (1 - kr))
    out = torch.cat([16 + 219 * y, 128 + 224 * cb, 128 + 224 * cr], dim=1)
    return out.round_().clamp_(0, 255).float()
