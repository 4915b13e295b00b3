"""Checkpoints submitted by users: safe loading, architecture check and a smoke round trip.

A checkpoint is a state dict (``.pth``/``.pth.tar``/``.pt`` or ``.safetensors``) for one of the
CompressAI zoo architectures; channel counts are read from the tensors (``from_state_dict``). Pickles
are opened with ``torch.load(weights_only=True)``, so a file that carries code is refused, never run.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from compressai.models import CompressionModel
from compressai.zoo.image import model_architectures
from compressai.zoo.pretrained import load_pretrained

from models.base import CodecError, CodecKind, RateSpec
from models.checkpoints import is_tensor_state_dict, read_checkpoint
from models.learned import CompressAICodec
from models.measure import measure

SUBMITTABLE_ARCHITECTURES: tuple[str, ...] = tuple(model_architectures)
CHECKPOINT_SUFFIXES = (".pth", ".pth.tar", ".pt", ".safetensors")


class CheckpointError(CodecError):
    """A submitted checkpoint cannot be used; the message says why."""


def read_state_dict(filename: str, data: bytes) -> dict[str, torch.Tensor]:
    """Parse checkpoint bytes into a state dict of tensors without executing any pickled code."""
    name = filename.lower()
    if not name.endswith(CHECKPOINT_SUFFIXES):
        raise CheckpointError(f"checkpoint {filename!r} must end in one of {', '.join(CHECKPOINT_SUFFIXES)}")
    state: object
    if name.endswith(".safetensors"):
        from safetensors.torch import load as load_safetensors

        try:
            state = load_safetensors(data)
        except Exception as exc:
            raise CheckpointError(f"checkpoint {filename!r} is not a valid safetensors file: {exc}") from None
    else:
        try:
            state = read_checkpoint(io.BytesIO(data))
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(
                f"checkpoint {filename!r} was refused: it is not a tensors-only state dict "
                f"(loaded with weights_only=True, nothing in it was executed): {first}"
            ) from None
    if not state or not is_tensor_state_dict(state):
        raise CheckpointError(f"checkpoint {filename!r} is not a state dict of tensors")
    return state


def build_network(architecture: str, state: dict[str, torch.Tensor]) -> CompressionModel:
    """The architecture loaded (strictly) from ``state``, with CDF tables rebuilt by ``update()``."""
    if architecture not in model_architectures:
        raise CheckpointError(
            f"unknown architecture {architecture!r}; choose one of " + ", ".join(SUBMITTABLE_ARCHITECTURES)
        )
    try:
        net = model_architectures[architecture].from_state_dict(load_pretrained(dict(state)))
    except Exception as exc:  # missing/unexpected keys, shape mismatches
        text = str(exc).strip().splitlines()
        raise CheckpointError(
            f"checkpoint keys/shapes do not match {architecture}: "
            f"{text[0] if text else type(exc).__name__}" + (f" {text[1].strip()}" if len(text) > 1 else "")
        ) from None
    net.update(force=True)
    return net.eval()


@dataclass
class SubmittedCodec(CompressAICodec):
    """A user's model: one checkpoint per (integer) rate point, all of one architecture."""

    architecture: str = ""

    def load_network(self, rate_point: int) -> CompressionModel:
        path = self.checkpoints.get(rate_point)
        if path is None or not path.is_file():
            raise CodecError(f"{self.name}: checkpoint for rate point {rate_point} is missing ({path})")
        return build_network(self.architecture, read_state_dict(path.name, path.read_bytes()))


def submitted_codec(name: str, architecture: str, checkpoints: dict[int, Path], context) -> SubmittedCodec:
    points = tuple(float(q) for q in sorted(checkpoints))
    return SubmittedCodec(
        name=name,
        kind=CodecKind.SUBMITTED,
        architecture=architecture,
        checkpoints=dict(checkpoints),
        context=context,
        rate=RateSpec(
            points=points, minimum=points[0], maximum=points[-1], integer=True, label="rate point", discrete=True
        ),
        description=f"submitted {architecture} model ({len(points)} rate point(s))",
    )


@dataclass
class LoadedNetworkCodec(CompressAICodec):
    """A codec on one network already in memory, at rate point 1 (used uncached, for smoke tests)."""

    loaded: CompressionModel | None = field(default=None, repr=False)

    def network(self, rate_point: int) -> CompressionModel:
        if self.loaded is None:
            raise CodecError(f"{self.name}: no network given")
        return self.loaded


def smoke_test(net: CompressionModel, image: np.ndarray) -> None:
    """Encode and decode ``image`` with ``net`` through the real bitstream path; raise on failure."""
    probe = LoadedNetworkCodec(
        name="smoke-test", kind=CodecKind.SUBMITTED, loaded=net, rate=RateSpec(points=(1.0,), minimum=1, maximum=1)
    )
    try:
        m = measure(probe, image, 1)
    except Exception as exc:
        raise CheckpointError(f"smoke encode/decode round trip failed: {type(exc).__name__}: {exc}") from None
    if not np.isfinite(m.bpp) or m.bpp <= 0:
        raise CheckpointError("smoke round trip produced an empty bitstream")
