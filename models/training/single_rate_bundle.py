"""Bundle K single-lambda runs of ``licbench train`` into the ``licbench-single-rate`` weights file.

    python -m models.training.single_rate_bundle RUN/multirate.pth ... -o models/weights/single-rate.pth [--half]

The inputs are exported checkpoints of runs with exactly one lambda each (``benchmarks/multirate.py``
trains them); they are written in rising lambda order.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models.codecs.single_rate import save_bundle
from models.multirate.checkpoint import load_network


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--half", action="store_true", help="store float tensors as float16")
    args = parser.parse_args(argv)
    try:
        nets = sorted((load_network(p) for p in args.checkpoints), key=lambda n: n.config.lambdas[0])
        path = save_bundle(nets, args.output, half=args.half)
    except Exception as exc:  # unreadable or foreign files: torch.load raises many types; one-line message
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}: lambdas {[n.config.lambdas[0] for n in nets]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
