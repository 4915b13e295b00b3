"""PSNR on 8-bit RGB, the way codec papers and CompressAI report it."""
from __future__ import annotations

import math

import torch

from metrics.base import Metric

# Identical images have infinite PSNR; we report this finite cap instead (documented in the API).
PSNR_CAP_DB = 100.0


def psnr(reference: torch.Tensor, distorted: torch.Tensor, data_range: float = 1.0,
         cap_db: float = PSNR_CAP_DB) -> torch.Tensor:
    """Per-image PSNR in dB of ``distorted`` (N,C,H,W) against ``reference`` (1 or N,C,H,W).

    MSE is averaged over all channels and pixels; values are capped at ``cap_db`` (identical -> cap).
    """
    mse = (distorted.double() - reference.double()).pow(2).flatten(1).mean(dim=1)
    floor = data_range**2 / 10 ** (cap_db / 10)
    return (10 * torch.log10(data_range**2 / mse.clamp_min(floor))).float()


class PSNR(Metric):
    name = "psnr"
    higher_is_better = True
    value_range = (0.0, PSNR_CAP_DB)
    description = f"PSNR on RGB, 8-bit, data range 255; identical images give the cap {PSNR_CAP_DB:g} dB"

    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        return [float(v) for v in psnr(reference, distorted)]


def psnr_from_mse(mse: float, data_range: float = 255.0) -> float:
    """Closed form used by tests and reports."""
    return PSNR_CAP_DB if mse == 0 else min(PSNR_CAP_DB, 10 * math.log10(data_range**2 / mse))
