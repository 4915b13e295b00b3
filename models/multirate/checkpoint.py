"""Saving and loading multi-rate networks: tensors and plain values only, loaded with ``weights_only=True``."""
from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from models.multirate.network import MultiRateCheckerboard, MultiRateConfig

CHECKPOINT_FORMAT = "licbench-multirate"
CHECKPOINT_VERSION = 1
# Buffers that are functions of the architecture (the checkerboard mask) or of the weights (the rANS tables,
# rebuilt by ``update()``): left out of checkpoints, which keeps the shipped file small.
DERIVED_SUFFIXES = (".mask", "._quantized_cdf", "._offset", "._cdf_length", ".scale_table")


def _derived(key: str) -> bool:
    return key.endswith(DERIVED_SUFFIXES)


def export_state(net: MultiRateCheckerboard) -> dict:
    """The network as a dict of plain values and tensors (architecture config included, derived buffers not)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "model_config": net.config.to_dict(),
        "state_dict": {k: v for k, v in net.state_dict().items() if not _derived(k)},
    }


def load_weights(net: MultiRateCheckerboard, state_dict: dict) -> MultiRateCheckerboard:
    """Load a state dict saved by :func:`export_state` and rebuild the derived buffers (rANS tables included)."""
    fresh = net.state_dict()
    state_dict = {k: v for k, v in state_dict.items() if not _derived(k)}  # always rebuilt, never trusted
    unexpected = sorted(set(state_dict) - set(fresh))
    missing = sorted(k for k in set(fresh) - set(state_dict) if not _derived(k))
    if unexpected or missing:
        raise ValueError(f"checkpoint does not fit the architecture: missing {missing[:5]}, unexpected "
                         f"{unexpected[:5]}")
    net.load_state_dict({**{k: v for k, v in fresh.items() if _derived(k)}, **state_dict})
    net.update(force=True)
    return net


def save_exported(net: MultiRateCheckerboard, path: Path) -> Path:
    """Write a deployable checkpoint (weights and config; the coder tables are rebuilt when it is loaded)."""
    net.eval()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(export_state(net), path)
    return path


def load_network(path: Path, device: str = "cpu") -> MultiRateCheckerboard:
    """Rebuild the network from a checkpoint written by :func:`save_exported` (or a training checkpoint)."""
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a {CHECKPOINT_FORMAT} checkpoint")
    if int(state.get("version", -1)) != CHECKPOINT_VERSION:
        raise ValueError(f"{path} has checkpoint version {state.get('version')}, expected {CHECKPOINT_VERSION}")
    net = MultiRateCheckerboard(MultiRateConfig.from_dict(state["model_config"]))
    load_weights(net, state["state_dict"])
    return net.eval().to(device)


def model_id(net: MultiRateCheckerboard) -> bytes:
    """An 8-byte fingerprint of the weights (derived buffers excluded), written in every file header so a
    decoder detects a file written by another model."""
    digest = hashlib.sha256()
    for name, tensor in sorted(net.state_dict().items()):
        if _derived(name):
            continue
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.digest()[:8]
