"""Device choice for learned codecs and metrics: the one rule both pure libraries follow.

``metrics`` imports this module too, so a ``DEVICE`` setting means the same thing everywhere.
"""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("cpu", "cuda", "cuda:N", "auto")


def resolve_device(requested: str) -> str:
    """Map a raw device setting to a device torch can use here.

    ``auto`` picks ``cuda`` when a CUDA device is visible, else ``cpu``; ``cpu`` is taken as given;
    ``cuda`` or ``cuda:N`` without a visible CUDA device raises ``RuntimeError`` (never a silent
    fallback to CPU, so timings are never recorded on a device other than the one asked for); any
    other value raises ``ValueError`` naming the choices.
    """
    value = str(requested).strip().lower()
    if value == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if value == "cpu":
        return "cpu"
    if value == "cuda" or (value.startswith("cuda:") and value[5:].isdigit()):
        if not torch.cuda.is_available():
            raise RuntimeError(f"DEVICE={requested} but no CUDA device is visible")
        return value
    raise ValueError(f"unknown device {requested!r}; choose one of {', '.join(DEVICE_CHOICES)}")
