"""Warm start: initialise a multi-rate network from an earlier checkpoint of the same transforms.

Transforms, hyperprior and context model are copied as they are. The gain vectors belong to the trained
lambdas; when the new lambda set differs, each new lambda's log-gains are interpolated linearly in
``log(lambda)`` between the old lambdas' log-gains (extrapolated linearly outside the old range), the same
exponential interpolation the codec uses between trained gains (Cui et al. 2021, "Asymmetric gained deep
image compression with continuous rate adaptation").

A checkpoint with narrower transforms (``transform_channels``) is widened function-preservingly, in the
spirit of Net2Net (Chen et al. 2016, "Net2Net: accelerating learning via knowledge transfer"): the old
channels keep their weights, the new channels get fresh initial weights on their inputs and zero weights
(and zero GDN cross-terms) wherever they feed an old channel, so the widened network computes exactly what
the old one did at step 0 and training grows the new channels from there.

A checkpoint with fewer latent channels ``M`` is widened the same way (:func:`widen_latent`): the old latent
channels keep their analysis filters, their synthesis filters and their entropy model; the new latent channels
get fresh analysis filters and entropy-parameter outputs, and zero weights wherever they feed an old channel
(the synthesis transform, the hyper-analysis, the context model). At step 0 the old channels are coded and
decoded exactly as before and the new ones cost only the few bits of their fresh entropy model; the synthesis
weights of the new channels then grow from zero (their gradient is not zero, because the new channels' values
are). More latent channels raise the ceiling the autoencoder itself has at high rate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from compressai.layers import GDN
from torch import nn

from models.multirate.checkpoint import CHECKPOINT_FORMAT, load_weights
from models.multirate.network import MultiRateCheckerboard

GAIN_KEYS = ("y_log_gain", "y_log_gain_inv", "z_log_gain", "z_log_gain_inv")


def remap_log_gains(old: torch.Tensor, old_lambdas: list[float], new_lambdas: list[float]) -> torch.Tensor:
    """Rows of ``old`` (one per old lambda) evaluated at ``new_lambdas``, linear in log(lambda)."""
    old_x = np.log(np.asarray(old_lambdas, dtype=float))
    rows = []
    for lmbda in new_lambdas:
        x = float(np.log(lmbda))
        if len(old_x) == 1:
            rows.append(old[0])
            continue
        j = int(np.clip(np.searchsorted(old_x, x) - 1, 0, len(old_x) - 2))  # segment (extended at the ends)
        t = (x - old_x[j]) / (old_x[j + 1] - old_x[j])
        rows.append((1 - t) * old[j] + t * old[j + 1])
    return torch.stack(rows).to(old.dtype)


def widen_transforms(net: MultiRateCheckerboard, weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``weights`` with the g_a/g_s tensors grown to ``net``'s (wider) transforms; see the module docstring."""
    fresh = net.state_dict()
    widened = dict(weights)
    for prefix in ("g_a", "g_s"):
        for name, module in getattr(net, prefix).named_modules():
            key = f"{prefix}.{name}"
            if isinstance(module, GDN):
                zero_gamma = float(module.gamma_reparam.init(torch.zeros(())))  # reparametrised 0
                widened[f"{key}.gamma"] = _leading(fresh[f"{key}.gamma"], weights[f"{key}.gamma"], 0, zero_gamma)
                widened[f"{key}.beta"] = _leading(fresh[f"{key}.beta"], weights[f"{key}.beta"], None)
            elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                out_dim = 1 if isinstance(module, nn.ConvTranspose2d) else 0
                widened[f"{key}.weight"] = _leading(fresh[f"{key}.weight"], weights[f"{key}.weight"], out_dim)
                widened[f"{key}.bias"] = _leading(fresh[f"{key}.bias"], weights[f"{key}.bias"], None)
    return widened


def _embed(
    fresh: torch.Tensor,
    old: torch.Tensor,
    out_axis: int | None,
    out_map: list[int],
    in_map: list[int] | None,
    zero: float = 0.0,
) -> torch.Tensor:
    """``old`` placed at output positions ``out_map`` (and input positions ``in_map``) of ``fresh``; the weights
    from NEW inputs to the placed (old) outputs are ``zero`` (a GDN's gamma stores 0 reparametrised).
    ``out_axis`` None: ``old`` is a vector (bias, gain)."""
    new = fresh.clone()
    out_index = torch.tensor(out_map)
    if out_axis is None:
        new[out_index] = old
        return new
    in_axis = 1 - out_axis
    moved = new.movedim((out_axis, in_axis), (0, 1))  # a view: (out, in, kh, kw)
    rows = moved[out_index]
    rows.fill_(zero)
    rows[:, torch.tensor(in_map)] = old.movedim((out_axis, in_axis), (0, 1))
    moved[out_index] = rows
    return new


def _leading(fresh: torch.Tensor, old: torch.Tensor, out_axis: int | None, zero: float = 0.0) -> torch.Tensor:
    """:func:`_embed` with the old channels first on every axis (a wider layer of the same layout)."""
    if out_axis is None:
        return _embed(fresh, old, None, list(range(old.shape[0])), None)
    return _embed(fresh, old, out_axis, list(range(old.shape[out_axis])), list(range(old.shape[1 - out_axis])), zero)


def _blocks(old_size: int, new_size: int, parts: int) -> list[int]:
    """Positions of the old channels when a tensor made of ``parts`` equal blocks (e.g. [scales, means]) grows."""
    old_block, new_block = old_size // parts, new_size // parts
    return [b * new_block + i for b in range(parts) for i in range(old_block)]


def widen_latent(net: MultiRateCheckerboard, weights: dict[str, torch.Tensor], old_M: int) -> dict[str, torch.Tensor]:
    """``weights`` (``old_M`` latent channels) grown to ``net``'s M; see the module docstring.

    Concatenated layouts are respected: the entropy-parameter network reads ``[context, hyper]`` (2M + 2M)
    and writes ``[scales, means]`` (M + M), as CompressAI's ``CheckerboardLatentCodec.merge`` and
    ``GaussianConditionalLatentCodec._chunk`` lay them out."""
    fresh = net.state_dict()
    widened = dict(weights)
    layers = [(f"g_a.{i}", m) for i, m in enumerate(net.g_a)] + [(f"g_s.{i}", m) for i, m in enumerate(net.g_s)]
    layers += [(f"hyper_codec.h_a.{i}", m) for i, m in enumerate(net.hyper_codec.h_a)]
    layers += [(f"hyper_codec.h_s.{i}", m) for i, m in enumerate(net.hyper_codec.h_s)]
    layers += [(f"y_codec.entropy_parameters.{i}", m) for i, m in enumerate(net.y_codec.entropy_parameters)]
    layers.append(("y_codec.context_prediction", net.y_codec.context_prediction))
    last_params = f"y_codec.entropy_parameters.{len(net.y_codec.entropy_parameters) - 1}"
    for key, module in layers:
        if not isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            continue
        old_w, new_w = weights[f"{key}.weight"], fresh[f"{key}.weight"]
        if old_w.shape == new_w.shape:
            continue
        out_axis = 1 if isinstance(module, nn.ConvTranspose2d) else 0
        in_axis = 1 - out_axis
        old_out, old_in = old_w.shape[out_axis], old_w.shape[in_axis]
        out_map = _blocks(old_out, new_w.shape[out_axis], 2) if key == last_params else list(range(old_out))
        in_map = (
            _blocks(old_in, new_w.shape[in_axis], 2) if key == "y_codec.entropy_parameters.0" else list(range(old_in))
        )
        widened[f"{key}.weight"] = _embed(new_w, old_w, out_axis, out_map, in_map)
        widened[f"{key}.bias"] = _embed(fresh[f"{key}.bias"], weights[f"{key}.bias"], None, out_map, None)
    for key in ("y_log_gain", "y_log_gain_inv"):
        old = weights[key]
        # new channels start at each rate's mean gain, so their quantisation step follows the lambda too
        extra = old.mean(dim=1, keepdim=True).expand(-1, net.config.M - old_M)
        widened[key] = torch.cat([old, extra], dim=1)
    return widened


def warm_start(net: MultiRateCheckerboard, path: Path) -> MultiRateCheckerboard:
    """Load ``path`` (an exported or training checkpoint) into ``net``; ``ValueError`` when N/M differ or the
    checkpoint's transforms are wider than ``net``'s (narrower ones are widened)."""
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint")
    old_cfg = state["model_config"]
    old_M = int(old_cfg["M"])
    if int(old_cfg["N"]) != net.config.N or old_M > net.config.M:
        raise ValueError(
            f"cannot warm start from {path}: it has N={old_cfg['N']}, M={old_M}, the config "
            f"N={net.config.N}, M={net.config.M} (N must match; M can be widened, not narrowed)"
        )
    weights = {k: v.float() for k, v in state["state_dict"].items()}
    old_width = int(old_cfg.get("transform_channels") or old_cfg["N"])
    if old_width > net.config.transform_width:
        raise ValueError(
            f"cannot warm start from {path}: its transforms have {old_width} channels, the config "
            f"{net.config.transform_width} (a checkpoint can be widened, not narrowed)"
        )
    if old_width < net.config.transform_width:
        weights = widen_transforms(net, weights)
    if old_M < net.config.M:
        weights = widen_latent(net, weights, old_M)
    old_lambdas = [float(v) for v in old_cfg["lambdas"]]
    new_lambdas = list(net.config.lambdas)
    if old_lambdas != new_lambdas:
        for key in GAIN_KEYS:
            weights[key] = remap_log_gains(weights[key], old_lambdas, new_lambdas)
    return load_weights(net, weights)
