"""HaarPSI: Haar wavelet-based perceptual similarity index (Reisenhofer, Bosse, Kutyniok, Wiegand,
Signal Processing: Image Communication 2018).

Same definition and constants as ``piq.haarpsi`` (the authors' C = 30, alpha = 4.2, three Haar
scales on the Y of YIQ after a 2x2 mean, chroma from 2x2 means of I and Q), computed with
separable Haar filters and with the reference's coefficients computed once per batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from piq.functional import rgb2yiq, similarity_map

from metrics.base import FunctionMetric

HAARPSI_MIN_SIZE = 16  # the coarsest Haar filter (16 taps) needs a 16-pixel image
SCALES, C, ALPHA = 3, 30.0, 4.2


def _correlate(x: torch.Tensor, along_h: torch.Tensor, along_w: torch.Tensor) -> torch.Tensor:
    k = along_h.numel()
    x = F.conv2d(x, along_h.view(1, 1, k, 1))
    return F.conv2d(x, along_w.view(1, 1, 1, k))


def _prepare(images: torch.Tensor) -> torch.Tensor:
    """RGB [0,1] -> YIQ on 0..255, 2x2 mean (zero padding at the bottom/right of odd sizes)."""
    yiq = rgb2yiq(images * 255)
    pad = max(yiq.shape[2] % 2, yiq.shape[3] % 2)
    return F.avg_pool2d(F.pad(yiq, [0, pad, 0, pad]), kernel_size=2)


def _coefficients(yiq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Haar coefficients of luma (2 orientations x 3 scales) and |2x2 mean| of I and Q."""
    luma = yiq[:, :1]
    out = []
    for scale in range(SCALES):
        k = 2 ** (scale + 1)
        box = torch.full((k,), 1.0 / k, dtype=luma.dtype)
        step = torch.cat([torch.ones(k // 2), -torch.ones(k // 2)]).to(luma.dtype)
        padded = F.pad(luma, [k // 2 - 1, k // 2, k // 2 - 1, k // 2])
        out += [_correlate(padded, step, box), _correlate(padded, box, step)]
    chroma = torch.abs(F.avg_pool2d(F.pad(yiq[:, 1:], [0, 1, 0, 1]), kernel_size=2, stride=1))
    return torch.cat(out, dim=1), chroma


def haarpsi(reference: torch.Tensor, distorted: torch.Tensor) -> torch.Tensor:
    """Per-image HaarPSI of RGB ``distorted`` (N,3,H,W) against ``reference`` (1,3,H,W) in [0, 1]."""
    coeff_r, chroma_r = _coefficients(_prepare(reference))
    coeff_d, chroma_d = _coefficients(_prepare(distorted))
    weights = torch.maximum(coeff_d[:, 4:].abs(), coeff_r[:, 4:].abs())
    maps = [
        similarity_map(coeff_d[:, (o, o + 2)].abs(), coeff_r[:, (o, o + 2)].abs(), constant=C).sum(dim=1, keepdim=True)
        / 2
        for o in range(2)
    ]
    maps.append(similarity_map(chroma_d, chroma_r, constant=C).sum(dim=1, keepdim=True) / 2)
    weights = torch.cat([weights, weights.mean(dim=1, keepdim=True)], dim=1)
    sim = torch.cat(maps, dim=1)
    eps = torch.finfo(sim.dtype).eps
    score = ((torch.sigmoid(sim * ALPHA) * weights).sum(dim=(1, 2, 3)) + eps) / (weights.sum(dim=(1, 2, 3)) + eps)
    return (torch.log(score / (1 - score)) / ALPHA) ** 2


class HaarPSI(FunctionMetric):
    name = "haarpsi"
    unit = "index"
    reference = "piq.haarpsi, equal on random images"
    higher_is_better = True
    value_range = (0.0, 1.0)
    description = "HaarPSI on YIQ, 3 Haar scales, C = 30, alpha = 4.2 (piq's definition)"
    min_size = HAARPSI_MIN_SIZE
    function = staticmethod(haarpsi)
