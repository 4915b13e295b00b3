"""Train the four shipped ``tiny-hyperprior`` checkpoints: ``python -m models.training.train_tiny_hyperprior``."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from models.codecs.tiny_hyperprior import LAMBDAS, PACKAGE_WEIGHTS, build_tiny_hyperprior, checkpoint_path
from models.photos import training_photos
from models.training.crops import RandomCrops
from models.training.single_rate import train_single_rate


def compact_state_dict(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The state dict with float tensors stored as float16 (4x smaller in the repo).

    Loading casts them back to float32; encoder and decoder both use the rounded weights, so the
    shipped model is exactly what the benchmark measures.
    """
    return {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--qualities", type=int, nargs="*", default=sorted(LAMBDAS))
    parser.add_argument("--out", type=Path, default=PACKAGE_WEIGHTS, help="folder for the checkpoints")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    photos = list(training_photos().values())
    for q in args.qualities:
        torch.manual_seed(q)
        net = build_tiny_hyperprior()
        print(f"quality {q}: lambda={LAMBDAS[q]} on {len(photos)} photos", flush=True)
        log = train_single_rate(net, RandomCrops(photos, args.crop, seed=q), LAMBDAS[q], args.steps, args.batch)
        torch.save(compact_state_dict(net), args.out / checkpoint_path(q).name)
        print(f"quality {q}: {log}", flush=True)


if __name__ == "__main__":
    main()
