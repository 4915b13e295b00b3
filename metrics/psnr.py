"""PSNR on 8-bit RGB, the way codec papers and CompressAI report it."""

from __future__ import annotations

import torch

from metrics.base import FunctionMetric
from metrics.colour import luma

# Identical images have infinite PSNR; we report this finite cap instead (documented in the API).
PSNR_CAP_DB = 100.0


def psnr(
    reference: torch.Tensor, distorted: torch.Tensor, data_range: float = 1.0, cap_db: float = PSNR_CAP_DB
) -> torch.Tensor:
    """Per-image PSNR in dB of ``distorted`` (N,C,H,W) against ``reference`` (1 or N,C,H,W).

    MSE is averaged over all channels and pixels; values are capped at ``cap_db`` (identical -> cap).
    """
    # Squared errors in the input precision (float32: exact enough for 8-bit data, and fast);
    # torch's pairwise summation keeps the mean accurate to ~1e-7, i.e. well under 1e-5 dB.
    mse = (distorted - reference).pow(2).flatten(1).mean(dim=1).double()
    floor = data_range**2 / 10 ** (cap_db / 10)
    return (10 * torch.log10(data_range**2 / mse.clamp_min(floor))).float()


class PSNR(FunctionMetric):
    name = "psnr"
    unit = "dB"
    reference = "official values on pyiqa's calibration pairs (RGB, data range 255), within 0.01 dB"
    higher_is_better = True
    value_range = (0.0, PSNR_CAP_DB)
    description = f"PSNR on RGB, 8-bit, data range 255; identical images give the cap {PSNR_CAP_DB:g} dB"
    function = staticmethod(psnr)


class PSNRY(FunctionMetric):
    """PSNR on the luma channel only, as codec papers report "Y-PSNR".

    Y' = 0.299 R + 0.587 G + 0.114 B (BT.601, full range, not rounded; CompressAI's ``rgb2ycbcr``),
    data range 1 (255 in 8-bit units); identical images give the cap.
    """

    name = "psnr-y"
    unit = "dB"
    reference = "PSNR of BT.601 luma, checked against its definition"
    higher_is_better = True
    value_range = (0.0, PSNR_CAP_DB)
    description = f"PSNR on BT.601 luma Y (full range, unrounded); identical images give the cap {PSNR_CAP_DB:g} dB"
    colour = "luma"
    function = staticmethod(psnr)
    convert = staticmethod(luma)
