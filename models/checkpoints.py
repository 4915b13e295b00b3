"""Reading checkpoint files safely: tensors only, and the state dict inside a training checkpoint.

Released CompressAI weights hold the state dict itself; CompressAI's ``examples/train.py`` saves
``{"epoch": ..., "state_dict": ..., "optimizer": ...}``. Both are accepted everywhere a checkpoint is
read (zoo, tiny-hyperprior, submitted models). ``torch.load(weights_only=True)`` refuses any pickle
that carries code, so nothing in a file is ever executed.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, TypeGuard

import torch


def unwrap_state_dict(checkpoint: object) -> object:
    """The ``state_dict`` entry of a training checkpoint, or ``checkpoint`` itself when it has none."""
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("state_dict"), dict):
        return checkpoint["state_dict"]
    return checkpoint


def read_checkpoint(source: Path | IO[bytes]) -> object:
    """Load a checkpoint on the CPU with ``weights_only=True`` and unwrap its state dict.

    Raises whatever ``torch.load`` raises for a refused or unreadable file; callers say which file.
    """
    return unwrap_state_dict(torch.load(source, map_location="cpu", weights_only=True))


def is_tensor_state_dict(state: object) -> TypeGuard[dict[str, torch.Tensor]]:
    """Whether ``state`` is a mapping of parameter names to tensors (what ``load_state_dict`` takes)."""
    return isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())
