"""SSIMULACRA 2 (Jon Sneyers, libjxl ``tools/ssimulacra2.cc``) in torch, in memory, batched per reference.

The computation is the one of the PyPI port ``ssimulacra2`` 0.3.0 (the only packaged implementation
here; a test keeps the two equal to 1e-6 on the 0-100 scale): 8-bit sRGB to linear RGB, the opsin
absorbance matrix and cube root of XYB made positive (X*14+0.42, Y+0.01, B-Y+0.55), six scales
(2x2 box downsampling in linear RGB, edge blocks averaged over the pixels they have), and per scale a
Gaussian blur (sigma 1.5, 11 taps; zero columns left and right, mirrored rows, as the port's
``blur_image`` does on its transposed planes), the SSIM-like map
``1 - (1 - (mu1-mu2)^2) * (2 s12 + C2) / (s11 + s22 + C2)`` and the
edge maps ``(1 + |d - mu_d|) / (1 + |r - mu_r|) - 1`` split into ringing and blurring, each pooled as
the mean and the 4-norm; 108 weights and the final polynomial map.

What is ours: no image files (the port reads PNGs), the 8-bit to linear step as a 256-entry table, the
layout channels-first so every reduction is contiguous, and the reference's pyramid, XYB planes and
blurred moments computed once for a whole batch of distorted images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from metrics.functional.filters import gaussian_window_1d

NUM_SCALES = 6
MIN_SIDE = 8  # the port stops at the first scale smaller than this
C2 = 0.0009
SIGMA = 1.5
RADIUS = 5  # int(3.33 * 1.5 + 0.5): the blur's half width
OPSIN = torch.tensor(
    [
        [0.30, 1.0 - 0.078 - 0.30, 0.078],
        [0.23, 1.0 - 0.078 - 0.23, 0.078],
        [0.24342268924547819, 0.20476744424496821, 1.0 - 0.24342268924547819 - 0.20476744424496821],
    ],
    dtype=torch.float64,
)
OPSIN_BIAS = 0.0037930732552754493

# libjxl's weights for (channel, scale, norm) x (ssim, ringing, blurring), in the port's order.
WEIGHTS = torch.tensor(
    [
        0.0,
        0.0007376606707406586,
        0.0,
        0.0,
        0.0007793481682867309,
        0.0,
        0.0,
        0.0004371155730107379,
        0.0,
        1.1041726426657346,
        0.00066284834129271,
        0.00015231632783718752,
        0.0,
        0.0016406437456599754,
        0.0,
        1.8422455520539298,
        11.441172603757666,
        0.0,
        0.0007989109436015163,
        0.000176816438078653,
        0.0,
        1.8787594979546387,
        10.94906990605142,
        0.0,
        0.0007289346991508072,
        0.9677937080626833,
        0.0,
        0.00014003424285435884,
        0.9981766977854967,
        0.00031949755934435053,
        0.0004550992113792063,
        0.0,
        0.0,
        0.0013648766163243398,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        7.466890328078848,
        0.0,
        17.445833984131262,
        0.0006235601634041466,
        0.0,
        0.0,
        6.683678146179332,
        0.00037724407979611296,
        1.027889937768264,
        225.20515300849274,
        0.0,
        0.0,
        19.213238186143016,
        0.0011401524586618361,
        0.001237755635509985,
        176.39317598450694,
        0.0,
        0.0,
        24.43300999870476,
        0.28520802612117757,
        0.0004485436923833408,
        0.0,
        0.0,
        0.0,
        34.77906344483772,
        44.835625328877896,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0008680556573291698,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0005313191874358747,
        0.0,
        0.00016533814161379112,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0004179171803251336,
        0.0017290828234722833,
        0.0,
        0.0020827005846636437,
        0.0,
        0.0,
        8.826982764996862,
        23.19243343998926,
        0.0,
        95.1080498811086,
        0.9863978034400682,
        0.9834382792465353,
        0.0012286405048278493,
        171.2667255897307,
        0.9807858872435379,
        0.0,
        0.0,
        0.0,
        0.0005130064588990679,
        0.0,
        0.00010854057858411537,
    ],
    dtype=torch.float64,
)


def _srgb_table() -> Tensor:
    v = torch.arange(256, dtype=torch.float64) / 255.0
    return torch.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


SRGB_TO_LINEAR = _srgb_table()


TAPS = gaussian_window_1d(2 * RADIUS + 1, SIGMA, torch.float64)  # scipy's taps: exp(-x^2/2s^2), x = -5..5, normalised


def linear_rgb(image: Tensor) -> Tensor:
    """(N,3,H,W) float RGB in [0, 1] holding 8-bit values -> linear RGB, float64."""
    codes = (image.clamp(0, 1) * 255).round().long()
    return SRGB_TO_LINEAR[codes]


def positive_xyb(linear: Tensor) -> Tensor:
    """Linear RGB (N,3,H,W) -> XYB made positive, as SSIMULACRA 2's MakePositiveXYB."""
    mixed = torch.einsum("ij,njhw->nihw", OPSIN, linear) + OPSIN_BIAS
    mixed = mixed.clamp_min(0).pow(1.0 / 3.0) - OPSIN_BIAS ** (1.0 / 3.0)
    x = 0.5 * (mixed[:, 0] - mixed[:, 1])
    y = 0.5 * (mixed[:, 0] + mixed[:, 1])
    return torch.stack([x * 14.0 + 0.42, y + 0.01, (mixed[:, 2] - y) + 0.55], dim=1)


def downsample(linear: Tensor) -> Tensor:
    """2x2 box average; a last odd row/column is averaged over the pixels it has."""
    return F.avg_pool2d(linear, 2, ceil_mode=True)


def blur(planes: Tensor) -> Tensor:
    """Gaussian blur of every plane of (N,C,H,W), 11 taps each way, with the port's borders: zero columns
    left and right, mirrored rows (scipy's 'reflect': the edge pixel repeated) at the top and bottom.
    (The port's XYB planes are transposed, W x H, by its ``linear.T``, so its "vertical" zero padding
    falls on the image's columns; a test holds us to the port.)"""
    from scipy import ndimage

    array = planes.detach().cpu().numpy()  # float64; scipy's 1-D passes are the fastest CPU path for doubles
    taps = TAPS.numpy()
    out = ndimage.correlate1d(array, taps, axis=-2, mode="reflect")
    out = ndimage.correlate1d(out, taps, axis=-1, mode="constant", cval=0.0)
    return torch.from_numpy(out)


@dataclass
class _ReferenceScale:
    xyb: Tensor  # (1,3,h,w)
    mu: Tensor  # blurred xyb
    sigma_sq: Tensor  # blurred xyb^2


@dataclass
class PreparedSSIMULACRA2:
    """The reference's scales (XYB, blurred XYB and blurred square), computed once."""

    scales: list[_ReferenceScale]
    shape: tuple[int, int]


def prepare_reference(reference: Tensor) -> PreparedSSIMULACRA2:
    """Reference-side work for a (1,3,H,W) RGB reference in [0, 1] (8-bit values)."""
    if reference.dim() != 4 or reference.shape[:2] != (1, 3):
        raise ValueError("expected a (1,3,H,W) RGB reference")
    linear = linear_rgb(reference)
    scales = []
    for _ in range(NUM_SCALES):
        if min(linear.shape[-2:]) < MIN_SIDE:
            break
        xyb = positive_xyb(linear)
        moments = blur(torch.cat([xyb, xyb * xyb], dim=1))
        scales.append(_ReferenceScale(xyb, moments[:, :3], moments[:, 3:]))
        linear = downsample(linear)
    return PreparedSSIMULACRA2(scales, (reference.shape[-2], reference.shape[-1]))


def _norms(d: Tensor) -> tuple[Tensor, Tensor]:
    """Per image and channel: the mean and the 4-norm (mean of d^4)^(1/4) of a map (N,3,h,w)."""
    d4 = (d * d) ** 2
    return d.mean(dim=(-2, -1)), d4.mean(dim=(-2, -1)) ** 0.25


def ssimulacra2_prepared(prepared: PreparedSSIMULACRA2, distorted: Tensor) -> Tensor:
    """SSIMULACRA 2 scores (N,) of each (N,3,H,W) distorted image against a prepared reference."""
    if distorted.dim() != 4 or distorted.size(1) != 3:
        raise ValueError("expected RGB distorted images (N,3,H,W)")
    if tuple(distorted.shape[-2:]) != prepared.shape:
        raise ValueError(f"sizes differ: {prepared.shape} vs {tuple(distorted.shape[-2:])}")
    linear = linear_rgb(distorted)
    features = []  # per scale: (N, 3 channels, 6 values) = ssim mean/4-norm, ringing mean/4-norm, blur mean/4-norm
    for ref in prepared.scales:
        xyb = positive_xyb(linear)
        moments = blur(torch.cat([xyb, xyb * xyb, xyb * ref.xyb], dim=1))
        mu, sigma_sq, sigma_12 = moments[:, :3], moments[:, 3:6], moments[:, 6:]
        num_m = 1.0 - (ref.mu - mu) ** 2
        num_s = 2.0 * (sigma_12 - ref.mu * mu) + C2
        denom_s = (ref.sigma_sq - ref.mu * ref.mu) + (sigma_sq - mu * mu) + C2
        ssim = (1.0 - num_m * num_s / denom_s).clamp_min(0.0)
        edge = (1.0 + (xyb - mu).abs()) / (1.0 + (ref.xyb - ref.mu).abs()) - 1.0
        parts = [*_norms(ssim), *_norms(edge.clamp_min(0.0)), *_norms((-edge).clamp_min(0.0))]
        features.append(torch.stack(parts, dim=-1))  # (N, 3, 6)
        linear = downsample(linear)
    # the port's weight order: channel, then scale, then norm, then (ssim, ringing, blurring)
    stacked = torch.stack(features, dim=2)  # (N, 3, scales, 6): [ssim1, ssim4, ring1, ring4, blur1, blur4]
    n, _, count, _ = stacked.shape
    ordered = stacked.view(n, 3, count, 3, 2).permute(0, 1, 2, 4, 3).reshape(n, -1)
    total = (ordered.abs() * WEIGHTS[: ordered.size(1)]).sum(-1) * 0.9562382616834844
    total = 2.326765642916932 * total - 0.020884521182843837 * total**2 + 6.248496625763138e-05 * total**3
    return torch.where(
        total > 0, 100.0 - 10.0 * total.clamp_min(0) ** 0.6276336467831387, torch.full_like(total, 100.0)
    )


def ssimulacra2(reference: Tensor, distorted: Tensor) -> Tensor:
    """SSIMULACRA 2 of each (N,3,H,W) distorted image against a (1,3,H,W) reference, RGB in [0, 1]."""
    return ssimulacra2_prepared(prepare_reference(reference), distorted)
