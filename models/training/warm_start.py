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


def _widened(fresh: torch.Tensor, old: torch.Tensor, out_dim: int | None, zero: float = 0.0) -> torch.Tensor:
    """``old`` in the leading block of ``fresh``; entries that map NEW inputs to OLD outputs set to ``zero``
    (``out_dim``: the output-channel axis of a 2-D+ weight, None for vectors)."""
    new = fresh.clone()
    new[tuple(slice(0, n) for n in old.shape)] = old
    if out_dim is not None:
        in_dim = 1 - out_dim
        index: list[slice] = [slice(None)] * new.dim()
        index[out_dim] = slice(0, old.shape[out_dim])
        index[in_dim] = slice(old.shape[in_dim], None)
        new[tuple(index)] = zero
    return new


def widen_transforms(net: MultiRateCheckerboard, weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``weights`` with the g_a/g_s tensors grown to ``net``'s (wider) transforms; see the module docstring."""
    fresh = net.state_dict()
    widened = dict(weights)
    for prefix in ("g_a", "g_s"):
        for name, module in getattr(net, prefix).named_modules():
            key = f"{prefix}.{name}"
            if isinstance(module, GDN):
                zero_gamma = float(module.gamma_reparam.init(torch.zeros(())))  # reparametrised 0
                widened[f"{key}.gamma"] = _widened(fresh[f"{key}.gamma"], weights[f"{key}.gamma"], 0, zero_gamma)
                widened[f"{key}.beta"] = _widened(fresh[f"{key}.beta"], weights[f"{key}.beta"], None)
            elif isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                out_dim = 1 if isinstance(module, nn.ConvTranspose2d) else 0
                widened[f"{key}.weight"] = _widened(fresh[f"{key}.weight"], weights[f"{key}.weight"], out_dim)
                widened[f"{key}.bias"] = _widened(fresh[f"{key}.bias"], weights[f"{key}.bias"], None)
    return widened


def warm_start(net: MultiRateCheckerboard, path: Path) -> MultiRateCheckerboard:
    """Load ``path`` (an exported or training checkpoint) into ``net``; ``ValueError`` when N/M differ or the
    checkpoint's transforms are wider than ``net``'s (narrower ones are widened)."""
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint")
    old_cfg = state["model_config"]
    if int(old_cfg["N"]) != net.config.N or int(old_cfg["M"]) != net.config.M:
        raise ValueError(f"cannot warm start from {path}: it has N={old_cfg['N']}, M={old_cfg['M']}, the config "
                         f"N={net.config.N}, M={net.config.M}")
    weights = {k: v.float() for k, v in state["state_dict"].items()}
    old_width = int(old_cfg.get("transform_channels") or old_cfg["N"])
    if old_width > net.config.transform_width:
        raise ValueError(f"cannot warm start from {path}: its transforms have {old_width} channels, the config "
                         f"{net.config.transform_width} (a checkpoint can be widened, not narrowed)")
    if old_width < net.config.transform_width:
        weights = widen_transforms(net, weights)
    old_lambdas = [float(v) for v in old_cfg["lambdas"]]
    new_lambdas = list(net.config.lambdas)
    if old_lambdas != new_lambdas:
        for key in GAIN_KEYS:
            weights[key] = remap_log_gains(weights[key], old_lambdas, new_lambdas)
    return load_weights(net, weights)
