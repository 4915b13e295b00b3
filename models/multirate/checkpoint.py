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
        raise ValueError(
            f"checkpoint does not fit the architecture: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    net.load_state_dict({**{k: v for k, v in fresh.items() if _derived(k)}, **state_dict})
    net.update(force=True)
    return net


def half_state(state: dict, parameters: set[str]) -> dict:
    """``export_state``'s dict with the learned ``parameters`` stored as float16 (half the file). Buffers keep
    their float32 values: they hold constants such as CompressAI's likelihood bound (1e-9) and GDN's pedestal
    (2^-36), which float16 would flush to zero. Loading widens float16 back to float32 exactly, so the loaded
    network is the one whose parameters were rounded to float16, and every encoder and decoder built from the
    file computes the same thing; whether that rounding costs rate or quality is measured, not assumed
    (docs/codecs.md). Refused if a parameter does not fit float16."""
    out = {}
    for key, tensor in state["state_dict"].items():
        if key in parameters and tensor.is_floating_point():
            half = tensor.to(torch.float16)
            if not torch.isfinite(half).all() and torch.isfinite(tensor).all():
                raise ValueError(f"{key} does not fit float16 (largest magnitude {tensor.abs().max().item():.3g})")
            tensor = half
        out[key] = tensor
    return {**state, "state_dict": out}


def save_exported(net: MultiRateCheckerboard, path: Path, half: bool = False) -> Path:
    """Write a deployable checkpoint (weights and config; the coder tables are rebuilt when it is loaded);
    ``half``: learned parameters stored as float16 (:func:`half_state`)."""
    net.eval()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = export_state(net)
    parameters = {name for name, _ in net.named_parameters()}
    torch.save(half_state(state, parameters) if half else state, path)
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
