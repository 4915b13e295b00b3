"""A small scale-hyperprior (Balle et al. 2018) trained by this project on CPU; ships in the repo.

Architecture is CompressAI's ``ScaleHyperprior`` with N=48, M=64; one checkpoint per rate point,
trained with ``python -m models.training.train_tiny_hyperprior`` (see docs/codecs.md for data, steps, time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from compressai.models import ScaleHyperprior

from models.base import CodecKind, RateSpec
from models.learned import CompressAICodec

PACKAGE_WEIGHTS = Path(__file__).resolve().parent.parent / "weights"
N, M = 48, 64
# CompressAI's lambdas for quality 1, 3, 5, 7 (MSE models).
LAMBDAS = {1: 0.0018, 2: 0.0067, 3: 0.0250, 4: 0.0932}


def build_tiny_hyperprior() -> ScaleHyperprior:
    """The architecture, randomly initialised (weights come from the checkpoints)."""
    return ScaleHyperprior(N=N, M=M)


def checkpoint_path(quality: int) -> Path:
    return PACKAGE_WEIGHTS / f"tiny-hyperprior-q{quality}.pth"


@dataclass
class TinyHyperpriorCodec(CompressAICodec):
    name: str = "tiny-hyperprior"
    kind: CodecKind = CodecKind.LEARNED
    rate: RateSpec = RateSpec(points=(1.0, 2.0, 3.0, 4.0), minimum=1, maximum=4, integer=True)
    description: str = "ScaleHyperprior N=48 M=64 trained here on CPU; CompressAI rANS coder"
    build: Callable[[], ScaleHyperprior] = field(default=build_tiny_hyperprior, repr=False)
    checkpoints: dict = field(default_factory=lambda: {q: checkpoint_path(q) for q in LAMBDAS})
