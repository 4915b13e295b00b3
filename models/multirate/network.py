"""The multi-rate network: one set of transforms, per-lambda gain vectors, checkerboard entropy coding.

Pieces, all from CompressAI 1.2.8:

* analysis/synthesis transforms ``g_a``/``g_s``: the GDN convolution stacks of Balle et al. 2018
  (``bmshj2018``), N channels inside and M latent channels;
* hyperprior ``h_a``/``h_s`` in the mean-scale style of Minnen et al. 2018 (``mbt2018``), an
  ``EntropyBottleneck`` for ``z`` wrapped in ``GainHyperLatentCodec``;
* ``CheckerboardLatentCodec`` (He et al. 2021) with a ``GaussianConditionalLatentCodec``: anchors are coded
  from the hyperprior alone, non-anchors conditioned on the decoded anchors; both passes go through the
  rANS coder;
* gain units (Cui et al. 2021): for each trained lambda ``s`` a per-channel gain on ``y`` and on ``z`` and
  their inverse gains. A continuous rate position ``p`` in ``[0, K-1]`` interpolates exponentially between
  the two adjacent trained vectors (linearly in log space), which is how one checkpoint gives a continuous
  RD curve.

As in Cui et al., the hyper-analysis sees the *gained* latent, so the hyperprior describes the latent that
is actually quantised at that rate (CompressAI's ``GainHyperpriorLatentCodec`` feeds ``h_a`` the un-gained
latent instead; here the two CompressAI latent codecs are composed directly).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
from compressai.entropy_models import EntropyBottleneck
from compressai.latent_codecs import CheckerboardLatentCodec, GaussianConditionalLatentCodec
from compressai.latent_codecs.gain import GainHyperLatentCodec
from compressai.layers import GDN, CheckerboardMaskedConv2d
from compressai.models import CompressionModel
from compressai.models.utils import conv, deconv
from torch import Tensor

# Images are padded to a multiple of this (4 stride-2 stages in g_a, 2 more in h_a).
PAD_MULTIPLE = 64


@dataclass(frozen=True)
class MultiRateConfig:
    """Architecture size and the trained lambda set (ascending: index 0 is the lowest bitrate)."""

    N: int = 64
    M: int = 64
    lambdas: tuple[float, ...] = (0.0018, 0.0048, 0.013, 0.035, 0.0932)
    # Channels inside g_a/g_s when wider than the hyperprior's N (None: N). Widening the transforms is where
    # a small model gains most (the hyperprior and context model stay cheap).
    transform_channels: int | None = None

    def __post_init__(self) -> None:
        lambdas = tuple(float(v) for v in self.lambdas)
        if not lambdas:
            raise ValueError("at least one lambda is needed")
        if any(b <= a for a, b in zip(lambdas, lambdas[1:])) or lambdas[0] <= 0:
            raise ValueError(f"lambdas must be positive and strictly increasing, got {lambdas}")
        if self.N < 1 or self.M < 1 or self.M % 2:
            raise ValueError("N and M must be positive, M even")
        if self.transform_channels is not None and int(self.transform_channels) < 1:
            raise ValueError("transform_channels must be positive")
        object.__setattr__(self, "lambdas", lambdas)

    @property
    def transform_width(self) -> int:
        """Channels inside the analysis and synthesis transforms."""
        return int(self.transform_channels) if self.transform_channels is not None else self.N

    def to_dict(self) -> dict:
        d = asdict(self)
        d["lambdas"] = list(self.lambdas)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> MultiRateConfig:
        width = d.get("transform_channels")
        return cls(
            N=int(d["N"]),
            M=int(d["M"]),
            lambdas=tuple(float(v) for v in d["lambdas"]),
            transform_channels=None if width is None else int(width),
        )


def analysis_transform(N: int, M: int) -> nn.Sequential:
    return nn.Sequential(conv(3, N), GDN(N), conv(N, N), GDN(N), conv(N, N), GDN(N), conv(N, M))


def synthesis_transform(N: int, M: int) -> nn.Sequential:
    return nn.Sequential(
        deconv(M, N),
        GDN(N, inverse=True),
        deconv(N, N),
        GDN(N, inverse=True),
        deconv(N, N),
        GDN(N, inverse=True),
        deconv(N, 3),
    )


def hyper_analysis(N: int, M: int) -> nn.Sequential:
    return nn.Sequential(
        conv(M, N, stride=1, kernel_size=3),
        nn.LeakyReLU(inplace=True),
        conv(N, N, stride=2, kernel_size=5),
        nn.LeakyReLU(inplace=True),
        conv(N, N, stride=2, kernel_size=5),
    )


def hyper_synthesis(N: int, M: int) -> nn.Sequential:
    return nn.Sequential(
        deconv(N, M, stride=2, kernel_size=5),
        nn.LeakyReLU(inplace=True),
        deconv(M, M * 3 // 2, stride=2, kernel_size=5),
        nn.LeakyReLU(inplace=True),
        conv(M * 3 // 2, M * 2, stride=1, kernel_size=3),
    )


def entropy_parameters(M: int) -> nn.Sequential:
    """Pointwise (1x1) network from [context, hyper params] (4M channels) to (scales, means) (2M)."""
    return nn.Sequential(
        nn.Conv2d(M * 12 // 3, M * 10 // 3, 1),
        nn.LeakyReLU(inplace=True),
        nn.Conv2d(M * 10 // 3, M * 8 // 3, 1),
        nn.LeakyReLU(inplace=True),
        nn.Conv2d(M * 8 // 3, M * 6 // 3, 1),
    )


@dataclass
class Gains:
    """The four gain vectors for one rate position, shaped (1, C, 1, 1) to broadcast over latents."""

    y: Tensor
    y_inv: Tensor
    z: Tensor
    z_inv: Tensor


class MultiRateCheckerboard(CompressionModel):
    """Gain-unit multi-rate codec with a checkerboard context model (see the module docstring)."""

    def __init__(self, config: MultiRateConfig | None = None) -> None:
        super().__init__()
        self.config = config or MultiRateConfig()
        N, M, K = self.config.N, self.config.M, len(self.config.lambdas)
        self.g_a = analysis_transform(self.config.transform_width, M)
        self.g_s = synthesis_transform(self.config.transform_width, M)
        self.y_codec = CheckerboardLatentCodec(
            latent_codec={"y": GaussianConditionalLatentCodec(quantizer="ste")},
            entropy_parameters=entropy_parameters(M),
            context_prediction=CheckerboardMaskedConv2d(M, 2 * M, kernel_size=5, stride=1, padding=2),
        )
        self.hyper_codec = GainHyperLatentCodec(
            entropy_bottleneck=EntropyBottleneck(N), h_a=hyper_analysis(N, M), h_s=hyper_synthesis(N, M)
        )
        # Log-gains, initialised so that the quantisation step shrinks like 1/sqrt(lambda) (the high-rate
        # optimum for MSE), centred on the middle lambda; training refines them per channel.
        lambdas = torch.tensor(self.config.lambdas)
        init = 0.5 * torch.log(lambdas / lambdas[K // 2])
        self.y_log_gain = nn.Parameter(init[:, None].repeat(1, M))
        self.y_log_gain_inv = nn.Parameter(-init[:, None].repeat(1, M))
        self.z_log_gain = nn.Parameter(init[:, None].repeat(1, N))
        self.z_log_gain_inv = nn.Parameter(-init[:, None].repeat(1, N))

    @property
    def num_rates(self) -> int:
        return len(self.config.lambdas)

    def gains(self, position: float | int) -> Gains:
        """Gain vectors at rate ``position`` in ``[0, K-1]``; fractional positions interpolate exponentially."""
        position = float(position)
        if not 0.0 <= position <= self.num_rates - 1:
            raise ValueError(f"rate position {position} outside [0, {self.num_rates - 1}]")
        low = max(0, min(int(math.floor(position)), self.num_rates - 2))
        frac = position - low if self.num_rates > 1 else 0.0

        def pick(log_gain: Tensor) -> Tensor:
            high = min(low + 1, self.num_rates - 1)
            mixed = (1.0 - frac) * log_gain[low] + frac * log_gain[high]
            return torch.exp(mixed).view(1, -1, 1, 1)

        return Gains(pick(self.y_log_gain), pick(self.y_log_gain_inv), pick(self.z_log_gain), pick(self.z_log_gain_inv))

    def forward(self, x: Tensor, position: float | int) -> dict:
        g = self.gains(position)
        y = self.g_a(x) * g.y
        hyper = self.hyper_codec(y, g.z, g.z_inv)
        y_out = self.y_codec(y, hyper["params"])
        x_hat = self.g_s(y_out["y_hat"] * g.y_inv)
        return {"x_hat": x_hat, "likelihoods": {"y": y_out["likelihoods"]["y"], "z": hyper["likelihoods"]["z"]}}

    def compress(self, x: Tensor, position: float, y: Tensor | None = None) -> dict:
        """Real rANS strings: ``[anchors, non-anchors, z]`` (one bytes object per batch item each).
        ``y``: an already gained latent to code instead of ``g_a(x) * gain`` (``models.multirate.refine``)."""
        g = self.gains(position)
        if y is None:
            y = self.g_a(x) * g.y
        hyper = self.hyper_codec.compress(y, g.z, g.z_inv)
        y_out = self.y_codec.compress(y, hyper["params"])
        x_hat = self.synthesise(y_out["y_hat"] * g.y_inv)
        anchors, non_anchors = y_out["strings"]
        return {"strings": [anchors, non_anchors, hyper["strings"][0]], "x_hat": x_hat}

    def decompress(self, strings: list[list[bytes]], latent_hw: tuple[int, int], position: float) -> dict:
        """Inverse of :meth:`compress`; ``latent_hw`` is the (h, w) of ``y`` (``z`` is a quarter of it)."""
        g = self.gains(position)
        anchors, non_anchors, z_strings = strings
        h, w = latent_hw
        hyper = self.hyper_codec.decompress([z_strings], (h // 4, w // 4), g.z_inv)
        y_out = self.y_codec.decompress([anchors, non_anchors], (self.config.M, h, w), hyper["params"])
        x_hat = self.synthesise(y_out["y_hat"] * g.y_inv)
        return {"x_hat": x_hat}

    def synthesise(self, y: Tensor) -> Tensor:
        """``g_s`` for coding (not training): the latent in channels-last layout, which oneDNN's CPU
        (de)convolutions run about 1.4x faster on one thread; clamped to [0, 1], contiguous."""
        return self.g_s(y.contiguous(memory_format=torch.channels_last)).clamp_(0, 1).contiguous()
