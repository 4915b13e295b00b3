"""IW-SSIM (Wang and Li, IEEE TIP 20(5), 2011), computed the way the authors' ``iwssim.m`` does.

The algorithm, per scale of a five-level Laplacian pyramid (binomial 5-tap filter, reflect padding):
an SSIM contrast-structure map (11x11 Gaussian window, sigma 1.5, valid region; the SSIM map at the
coarsest scale), pooled with weights equal to the information content of the reference under a
Gaussian scale mixture model of 3x3 neighbourhoods plus the parent coefficient (sigma_n^2 = 0.4); the
pooled values are combined with the MS-SSIM scale weights. Conventions (zero padding of the 3x3 means,
the parent enlarged by the authors' bilinear 4x-3 scheme, the eigenvalue clipping of the neighbourhood
covariance) follow piq's ``information_weighted_ssim``, which follows the MATLAB code; a test keeps the
two equal to 1e-9.

What is ours: the Gaussian and box windows are applied as two 1-D passes (the 2-D kernels are outer
products, so the sums are the same up to rounding) and everything that depends on the reference alone
(its pyramid, local means and variances, the neighbourhood covariance, its eigen-decomposition and the
quadratic form of every neighbourhood) is computed once for a whole batch of distorted images. On one
768x512 pair in float64 this is several times faster than the 2-D convolutions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from metrics.functional.filters import gaussian_filter, gaussian_window_1d

SCALE_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # MS-SSIM's (Wang et al. 2003), as iwssim.m
WINDOW, WINDOW_SIGMA = 11, 1.5
K1, K2 = 0.01, 0.03
BLOCK = 3  # neighbourhood side of the GSM model
SIGMA_NSQ = 0.4  # visual noise variance of the distortion model


def _box3(x: Tensor) -> Tensor:
    """3x3 mean with one zero row/column before and two after (the padding iwssim's conventions give);
    ``gaussian_filter`` applies any separable window, here the box."""
    return gaussian_filter(F.pad(x, [1, 2, 1, 2]), torch.full((BLOCK,), 1.0 / BLOCK, dtype=x.dtype))


def _binomial(dtype: torch.dtype) -> Tensor:
    return torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], dtype=dtype) / 16 * math.sqrt(2)


def _pyramid_step(x: Tensor) -> tuple[Tensor, Tensor]:
    """One Laplacian pyramid step: (low-pass decimated by 2, band-pass residual at full size)."""
    k = _binomial(x.dtype)
    h, w = x.shape[-2:]
    low = F.conv2d(F.pad(x, [2, 2, 0, 0], mode="reflect"), k.view(1, 1, 1, 5))[..., ::2]
    low = F.conv2d(F.pad(low, [0, 0, 2, 2], mode="reflect"), k.view(1, 1, 5, 1))[..., ::2, :]
    up = torch.zeros(*low.shape[:-1], 2 * low.size(-1), dtype=x.dtype)  # zero insertion along x
    up[..., ::2] = low
    up = F.conv2d(F.pad(up, [2, 2, 0, 0], mode="reflect"), k.view(1, 1, 1, 5))[..., :w]
    up2 = torch.zeros(*up.shape[:-2], 2 * up.size(-2), up.size(-1), dtype=x.dtype)
    up2[..., ::2, :] = up
    up2 = F.conv2d(F.pad(up2, [0, 0, 2, 2], mode="reflect"), k.view(1, 1, 5, 1))[..., :h, :]
    return low, x - up2


def _enlarge(x: Tensor) -> Tensor:
    """The authors' parent upsampling: bilinear to 4n-3, linear extrapolation of one border, every 2nd."""
    h, w = x.shape[-2:]
    t = torch.zeros(*x.shape[:-2], 4 * h - 1, 4 * w - 1, dtype=x.dtype)
    t[..., 1:-1, 1:-1] = F.interpolate(x, size=(4 * h - 3, 4 * w - 3), mode="bilinear", align_corners=False)
    t[..., 0, :] = 2 * t[..., 1, :] - t[..., 2, :]
    t[..., -1, :] = 2 * t[..., -2, :] - t[..., -3, :]
    t[..., :, 0] = 2 * t[..., :, 1] - t[..., :, 2]
    t[..., :, -1] = 2 * t[..., :, -2] - t[..., :, -3]
    return t[..., ::2, ::2]


class _ReferenceInformation:
    """Reference-only part of the information content at one scale: local mean/variance (3x3) and, per
    neighbourhood, the GSM quadratic form ``s`` and the clipped eigenvalues of the neighbourhood covariance."""

    def __init__(self, y: Tensor, parent: Tensor | None) -> None:
        self.mu = _box3(y)
        self.var = _box3(y * y) - self.mu**2
        h, w = y.shape[-2:]
        self.rows, self.cols = h - BLOCK + 1, w - BLOCK + 1
        # neighbourhood vectors: the 3x3 shifts (circular, as iwssim.m's circshift) then the parent
        shifts = [
            torch.roll(y, (dy, dx), (-2, -1))[..., 1 : 1 + self.rows, 1 : 1 + self.cols]
            for dy in (-1, 0, 1)
            for dx in (-1, 0, 1)
        ]
        if parent is not None:
            shifts.append(_enlarge(parent)[..., :h, :w][..., 1 : 1 + self.rows, 1 : 1 + self.cols])
        vectors = torch.stack([s.flatten(-2) for s in shifts], dim=-1)  # (1, 1, n, N)
        n_dims = vectors.size(-1)
        cov = vectors.transpose(-2, -1) @ vectors / vectors.size(-2)
        eig, basis = torch.linalg.eigh(cov)
        positive = eig * (eig > 0)
        total, kept = eig.sum(-1, keepdim=True), positive.sum(-1, keepdim=True)
        self.eig = positive * total / (kept + (kept == 0))  # clipped, rescaled to keep the trace
        cov = basis @ torch.diag_embed(self.eig) @ basis.transpose(-2, -1)
        inverse = torch.inverse(cov)
        self.s = ((vectors @ inverse) * vectors).sum(-1).view(*y.shape[:-2], self.rows, self.cols) / n_dims


def _information_map(x: Tensor, y: Tensor, ref: _ReferenceInformation) -> Tensor:
    """Information content weights of each distorted ``x`` (B,1,H,W) against the reference ``y``."""
    eps = torch.finfo(x.dtype).eps
    mu_x = _box3(x)
    var_x = F.relu(_box3(x * x) - mu_x**2)
    var_y = F.relu(ref.var)
    cov = _box3(x * y) - mu_x * ref.mu
    g = cov / (var_y + eps)
    vv = var_x - g * cov
    flat_y = (var_y < eps).expand_as(g)
    g = g.masked_fill(flat_y, 0)
    vv = torch.where(flat_y, var_x, vv)
    flat_x = var_x < eps
    g = g.masked_fill(flat_x, 0)
    vv = vv.masked_fill(flat_x, 0)
    r, c = slice(1, 1 + ref.rows), slice(1, 1 + ref.cols)
    g, vv = g[..., r, c].unsqueeze(-1), vv[..., r, c].unsqueeze(-1)
    eig = ref.eig.view(1, 1, 1, 1, -1)
    info = torch.log2(
        1 + ((vv + (1 + g * g) * SIGMA_NSQ) * ref.s.unsqueeze(-1) * eig + SIGMA_NSQ * vv) / (SIGMA_NSQ * SIGMA_NSQ)
    ).sum(-1)
    return info.masked_fill(info < eps, 0)


def _ssim_maps(x: Tensor, y: Tensor, mu_y: Tensor, yy: Tensor, taps: Tensor) -> tuple[Tensor, Tensor]:
    """SSIM and contrast-structure maps (valid region) of each ``x`` against the reference ``y`` whose
    windowed mean ``mu_y`` and mean square ``yy`` are given (computed once for the batch)."""
    c1, c2 = (K1 * 255) ** 2, (K2 * 255) ** 2
    stats = gaussian_filter(torch.cat([x, x * x, x * y.expand_as(x)], dim=1), taps)
    mu_x, xx, xy = stats[:, 0:1], stats[:, 1:2], stats[:, 2:3]
    var_x = F.relu(xx - mu_x**2)
    var_y = F.relu(yy - mu_y**2)
    cov = xy - mu_x * mu_y
    cs = (2 * cov + c2) / (var_x + var_y + c2)
    ssim = (2 * mu_x * mu_y + c1) / (mu_x**2 + mu_y**2 + c1) * cs
    return ssim, cs


@dataclass
class _ReferenceScale:
    band: Tensor  # the reference's pyramid band at this scale (x255)
    mu: Tensor  # its Gaussian-windowed mean
    mean_square: Tensor  # its Gaussian-windowed mean of squares
    info: _ReferenceInformation | None  # None at the coarsest scale (plain SSIM mean there)


@dataclass
class PreparedIWSSIM:
    """Everything IW-SSIM needs from one reference, computed once for any number of distorted images."""

    scales: list[_ReferenceScale]
    shape: tuple[int, int]


def _check(shape: tuple[int, ...]) -> None:
    if min(shape[-2:]) < (WINDOW - 1) * 2 ** (len(SCALE_WEIGHTS) - 1) + 1:
        raise ValueError("IW-SSIM needs images of at least 161x161 pixels")


def prepare_reference(reference: Tensor) -> PreparedIWSSIM:
    """The reference-side work of IW-SSIM for a grey ``reference`` (1,1,H,W) in [0, 1] (float64
    recommended, as the authors' MATLAB code)."""
    if reference.dim() != 4 or reference.shape[:2] != (1, 1):
        raise ValueError("expected a (1,1,H,W) grey reference")
    _check(reference.shape)
    levels = len(SCALE_WEIGHTS)
    taps = gaussian_window_1d(WINDOW, WINDOW_SIGMA, reference.dtype)
    y, band = _pyramid_step(reference * 255)
    scales = []
    for level in range(levels):
        if level < levels - 2:
            y, following = _pyramid_step(y)
        else:
            following = y
        stats = gaussian_filter(torch.cat([band, band * band], dim=1), taps)
        info = None
        if level < levels - 1:
            info = _ReferenceInformation(band, following if level < levels - 2 else None)
        scales.append(_ReferenceScale(band, stats[:, 0:1], stats[:, 1:2], info))
        band = following
    return PreparedIWSSIM(scales, (reference.shape[-2], reference.shape[-1]))


def iw_ssim_prepared(prepared: PreparedIWSSIM, distorted: Tensor) -> Tensor:
    """IW-SSIM of each grey ``distorted`` (B,1,H,W) in [0, 1] against a prepared reference."""
    if distorted.dim() != 4 or distorted.size(1) != 1:
        raise ValueError("expected grey distorted images (B,1,H,W)")
    if tuple(distorted.shape[-2:]) != prepared.shape:
        raise ValueError(f"sizes differ: {prepared.shape} vs {tuple(distorted.shape[-2:])}")
    levels = len(SCALE_WEIGHTS)
    taps = gaussian_window_1d(WINDOW, WINDOW_SIGMA, distorted.dtype)
    crop = math.ceil((WINDOW - 1) / 2) - (BLOCK - 1) // 2  # the 3x3 maps cover more than SSIM's valid region
    x, band = _pyramid_step(distorted * 255)
    pooled = []
    for level, ref in enumerate(prepared.scales):
        if level < levels - 2:
            x, following = _pyramid_step(x)
        else:
            following = x
        ssim, cs = _ssim_maps(band, ref.band, ref.mu, ref.mean_square, taps)
        if ref.info is None:
            pooled.append(ssim.mean(dim=(-2, -1)))
        else:
            weights = _information_map(band, ref.band, ref.info)[..., crop:-crop, crop:-crop]
            pooled.append((cs * weights).sum(dim=(-2, -1)) / weights.sum(dim=(-2, -1)))
        band = following
    scale = torch.tensor(SCALE_WEIGHTS, dtype=distorted.dtype)
    scale = scale / scale.sum()
    stacked = torch.stack(pooled).abs()  # (levels, B, 1)
    return torch.prod(stacked ** scale.view(-1, 1, 1), dim=0)[:, 0]


def iw_ssim_batch(reference: Tensor, distorted: Tensor) -> Tensor:
    """IW-SSIM of each grey ``distorted`` (B,1,H,W) against the grey ``reference`` (1,1,H,W), both in [0, 1]."""
    return iw_ssim_prepared(prepare_reference(reference), distorted)
