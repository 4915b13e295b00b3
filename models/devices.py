"""Device choice for learned codecs and metrics."""
from __future__ import annotations

import torch


def resolve_device(requested: str) -> str:
    """Map ``cpu``/``cuda``/``auto`` to a device torch can use here (``cuda`` falls back to nothing)."""
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"DEVICE={requested} but no CUDA device is visible")
    return requested
