"""Encoder-side latent refinement: optimise one image's latent for its own rate-distortion cost.

The analysis transform ``g_a`` is an *amortised* encoder: one network guesses a good latent for every image.
For a given image the latent that minimises ``lambda * 255^2 * MSE + bpp`` under the decoder we ship is
usually elsewhere (the "amortisation gap"), and the gap is widest on images unlike the training data. Refining
``y`` by gradient descent on the image's own RD cost closes part of that gap at encode time only: the decoder,
the bitstream format and decoding speed are unchanged, and any decoder decodes the refined file.

Following Campos et al. 2019 ("Content adaptive optimization for neural image compression") and Yang et al.
2020 ("Improving inference for neural image compression", NeurIPS), the latent ``y`` (after the rate's gain)
is the free variable and ``z`` follows from it through ``h_a``. Rounding is relaxed by stochastic Gumbel
annealing (SGA, Yang et al.'s eq. 6): each element is softly and randomly pulled to its floor or ceiling, at a
temperature annealed from ``tau0`` to ``tau1``, so the decoder, the checkerboard context and the likelihood all
see values that become integers (around the predicted means) as the run ends. ``method="ste"`` uses
CompressAI's training surrogates instead (uniform-noise likelihoods, straight-through rounding into the
decoder), the baseline of Yang et al. The distortion counts only the image's own pixels (not the padding to a
multiple of 64), so the latents under the padding become cheap. The optimiser is Adam with a cosine-decayed
step size; the noise comes from a fixed seed (encoding the same image twice gives the same bytes). The rounded RD
cost (what the rANS coder will actually spend, checked against real files in the tests) is evaluated for the
amortised latent and ``checks`` times along the run, and the best of these latents is kept, so refinement
never makes an image worse by the model's own estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from compressai.ops import quantize_ste
from torch import Tensor

from models.multirate.network import Gains, MultiRateCheckerboard


@dataclass(frozen=True)
class RefineSettings:
    """How to refine: Adam ``steps`` on ``y`` with step size ``lr`` (cosine-decayed), the relaxation of rounding
    (``method``, SGA temperatures ``tau0`` -> ``tau1``), the noise ``seed``.
    Images above ``max_pixels`` get proportionally fewer steps (:func:`refine_steps`), which bounds the encode
    time of large images at about that of a ``max_pixels`` image; images above ``limit_pixels`` are refused
    (backpropagating through the synthesis transform keeps its activations: about 1.3 GB per megapixel)."""

    steps: int = 0
    lr: float = 0.05
    seed: int = 0
    max_pixels: int = 1_000_000
    limit_pixels: int = 4_000_000
    method: str = "sga"  # "sga" (stochastic Gumbel annealing) or "ste" (noise + straight-through)
    tau0: float = 0.5  # SGA temperature at the first step ...
    tau1: float = 0.05  # ... and at the last
    checks: int = 10  # the rounded RD cost is evaluated this many times over the run; the best iterate is kept

    def __post_init__(self) -> None:
        if int(self.steps) < 0:
            raise ValueError("refinement steps must be >= 0")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError("refinement lr must be a positive number")
        if int(self.max_pixels) < 1 or int(self.limit_pixels) < 1:
            raise ValueError("max_pixels and limit_pixels must be positive")
        if self.method not in ("sga", "ste"):
            raise ValueError('refinement method must be "sga" or "ste"')
        if not 0 < self.tau1 <= self.tau0:
            raise ValueError("SGA temperatures need 0 < tau1 <= tau0")
        if int(self.checks) < 1:
            raise ValueError("refinement checks must be >= 1")


def refine_steps(settings: RefineSettings, pixels: int) -> int:
    """Steps for an image of ``pixels`` pixels: ``settings.steps``, scaled by ``max_pixels / pixels`` above
    ``max_pixels`` (deterministic in the image size, so the same image always gets the same bytes)."""
    return int(round(settings.steps * min(1.0, settings.max_pixels / max(1, pixels))))


def _anchor_mask(h: int, w: int, device: torch.device) -> Tensor:
    """1 on the checkerboard's anchors (CompressAI's even parity: row + column even), 0 elsewhere."""
    rows = torch.arange(h, device=device).view(-1, 1)
    cols = torch.arange(w, device=device).view(1, -1)
    return ((rows + cols) % 2 == 0).float().view(1, 1, h, w)


def sga_round(r: Tensor, tau: float) -> Tensor:
    """Stochastic Gumbel annealing (Yang et al. 2020, eq. 6): a random relaxed rounding of ``r`` to its floor or
    ceiling, with logits ``-atanh(distance) / tau`` and a Gumbel-softmax sample at temperature ``tau``; it
    tends to hard rounding as ``tau -> 0`` and is differentiable in ``r``."""
    floor = torch.floor(r)
    frac = (r - floor).clamp(1e-5, 1 - 1e-5)
    logits = torch.stack([-torch.atanh(frac), -torch.atanh(1 - frac)], dim=-1) / tau
    weights = torch.nn.functional.gumbel_softmax(logits, tau=tau, hard=False, dim=-1)
    return floor + weights[..., 1]


def _discretized_gaussian(gc, values: Tensor, scales: Tensor, means: Tensor) -> Tensor:
    """CompressAI's ``GaussianConditional`` likelihood of (possibly non-integer) ``values``: the Gaussian's mass
    on ``[v - 1/2, v + 1/2]``, with its scale and likelihood lower bounds."""
    scales = gc.lower_bound_scale(scales)
    centred = torch.abs(values - means)
    cdf = lambda t: 0.5 * torch.erfc(-(2**-0.5) * t)  # noqa: E731
    likelihood = cdf((0.5 - centred) / scales) - cdf((-0.5 - centred) / scales)
    return gc.likelihood_lower_bound(likelihood)


def rd_cost(
    net: MultiRateCheckerboard,
    y: Tensor,
    gains: Gains,
    x: Tensor,
    lmbda: float,
    crop: tuple[int, int, int, int],
    mode: str = "round",
    tau: float = 0.5,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(loss, bpp, mse)`` of the gained latent ``y`` for the padded image ``x``.

    ``mode``: ``"round"``, rounded latents throughout, i.e. what the rANS coder spends (up to its overhead);
    ``"ste"``, CompressAI's training surrogate (uniform-noise likelihoods, straight-through rounding into the
    decoder); ``"sga"``, :func:`sga_round` at temperature ``tau`` for ``y`` (into the decoder, the context model
    and the likelihood alike), noise for ``z``. ``crop = (left, right, top, bottom)``: padding excluded from the
    distortion and from the pixel count.
    """
    if mode not in ("round", "ste", "sga"):
        raise ValueError(f"unknown rd_cost mode {mode!r}")
    eb = net.hyper_codec.entropy_bottleneck
    z = net.hyper_codec.h_a(y) * gains.z
    _, z_likelihoods = eb(z, training=mode != "round")
    medians = eb.quantiles[:, 0, 1].view(1, -1, 1, 1)
    z_hat = quantize_ste(z - medians) + medians
    hyper = net.hyper_codec.h_s(z_hat * gains.z_inv)

    codec = net.y_codec
    anchors = _anchor_mask(y.shape[-2], y.shape[-1], y.device)
    zero_ctx = torch.zeros(y.shape[0], 2 * y.shape[1], *y.shape[-2:], device=y.device, dtype=y.dtype)
    scales_a, means_a = codec.entropy_parameters(torch.cat([zero_ctx, hyper], dim=1)).chunk(2, 1)
    rounding = (lambda r: sga_round(r, tau)) if mode == "sga" else quantize_ste
    y_hat_anchors = (rounding(y - means_a) + means_a) * anchors
    scales_n, means_n = codec.entropy_parameters(
        torch.cat([codec.context_prediction(y_hat_anchors), hyper], dim=1)
    ).chunk(2, 1)
    scales = anchors * scales_a + (1 - anchors) * scales_n
    means = anchors * means_a + (1 - anchors) * means_n
    y_hat = y_hat_anchors + (1 - anchors) * (rounding(y - means) + means)
    gc = codec.latent_codec["y"].gaussian_conditional
    if mode == "sga":
        y_likelihoods = _discretized_gaussian(gc, y_hat, scales, means)
    else:
        _, y_likelihoods = gc(y, scales, means, training=mode == "ste")

    left, right, top, bottom = crop
    h, w = x.shape[-2], x.shape[-1]
    x_hat = net.g_s(y_hat * gains.y_inv)[..., top : h - bottom, left : w - right]
    mse = (x_hat - x[..., top : h - bottom, left : w - right]).pow(2).mean()
    pixels = x.shape[0] * (h - top - bottom) * (w - left - right)
    bits = -(torch.log(y_likelihoods).sum() + torch.log(z_likelihoods).sum()) / math.log(2)
    bpp = bits / pixels
    return lmbda * 255.0**2 * mse + bpp, bpp, mse


def refine_latent(
    net: MultiRateCheckerboard,
    x: Tensor,
    position: float,
    lmbda: float,
    settings: RefineSettings,
    crop: tuple[int, int, int, int] = (0, 0, 0, 0),
) -> Tensor:
    """The gained latent ``y`` for padded image ``x`` at rate ``position``, refined for ``lmbda`` (see the
    module docstring); with no steps (:func:`refine_steps`) simply ``g_a(x) * gain``. The network is not modified."""
    gains = net.gains(position)
    gains = Gains(*(t.detach() for t in (gains.y, gains.y_inv, gains.z, gains.z_inv)))
    with torch.no_grad():
        y0 = net.g_a(x) * gains.y
    left, right, top, bottom = crop
    steps = refine_steps(settings, (x.shape[-2] - top - bottom) * (x.shape[-1] - left - right))
    if steps == 0:
        return y0
    with torch.no_grad():
        best, best_cost = y0, rd_cost(net, y0, gains, x, lmbda, crop)[0]
    check_every = max(1, steps // settings.checks)
    y = y0.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([y], lr=settings.lr)
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        torch.manual_seed(settings.seed)
        for step in range(steps):
            # temperature annealed exponentially from tau0 to tau1 (Yang et al. anneal exponentially too)
            tau = settings.tau0 * (settings.tau1 / settings.tau0) ** (step / max(1, steps - 1))
            loss, _, _ = rd_cost(net, y, gains, x, lmbda, crop, mode=settings.method, tau=tau)
            # gradients for y only: the network's weights are neither updated nor given .grad
            (grad,) = torch.autograd.grad(loss, [y])
            y.grad = grad
            optimizer.step()
            for group in optimizer.param_groups:
                group["lr"] = settings.lr * 0.5 * (1.0 + math.cos(math.pi * (step + 1) / steps))
            if (step + 1) % check_every == 0 or step + 1 == steps:
                # the relaxed objective is noisy and its iterates are not monotone in the rounded cost,
                # which is what the coder spends: keep the best iterate by that cost
                with torch.no_grad():
                    cost = rd_cost(net, y, gains, x, lmbda, crop)[0]
                if cost < best_cost:
                    best, best_cost = y.detach().clone(), cost
    return best
