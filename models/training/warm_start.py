"""Warm start: initialise a multi-rate network from an earlier checkpoint of the same transforms.

Transforms, hyperprior and context model are copied as they are. The gain vectors belong to the trained
lambdas; when the new lambda set differs, each new lambda's log-gains are interpolated linearly in
``log(lambda)`` between the old lambdas' log-gains (extrapolated linearly outside the old range), the same
exponential interpolation the codec uses between trained gains (Cui et al. 2021, "Asymmetric gained deep
image compression with continuous rate adaptation").
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

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


def warm_start(net: MultiRateCheckerboard, path: Path) -> MultiRateCheckerboard:
    """Load ``path`` (an exported or training checkpoint) into ``net``; ``ValueError`` when N/M differ."""
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint")
    old_cfg = state["model_config"]
    if int(old_cfg["N"]) != net.config.N or int(old_cfg["M"]) != net.config.M:
        raise ValueError(f"cannot warm start from {path}: it has N={old_cfg['N']}, M={old_cfg['M']}, the config "
                         f"N={net.config.N}, M={net.config.M}")
    weights = {k: v.float() for k, v in state["state_dict"].items()}
    old_lambdas = [float(v) for v in old_cfg["lambdas"]]
    new_lambdas = list(net.config.lambdas)
    if old_lambdas != new_lambdas:
        for key in GAIN_KEYS:
            weights[key] = remap_log_gains(weights[key], old_lambdas, new_lambdas)
    return load_weights(net, weights)
