"""``licbench train --config configs/multirate.yaml [--resume logs/<run>]``: the training sandbox."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.commands import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the multi-rate learned codec (writes logs/<timestamp>/)",
        description="Train one multi-rate model over the config's lambda set. Writes config.yaml, metrics.csv, "
        "checkpoint_latest.pth, checkpoint_best.pth, multirate.pth and multirate-f16.pth (the same weights "
        "stored as float16; copy it to models/weights/multirate.pth to ship it) under LOG_DIR/<timestamp>/.",
    )
    parser.add_argument("--config", type=Path, help="YAML training config (e.g. configs/multirate.yaml)")
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue the run in RUN_DIR from its checkpoint_latest.pth and config.yaml",
    )
    parser.add_argument("--log-dir", type=Path, default=Path("logs"), help="where run folders go (default: logs)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from models.training.multirate import load_config, train

    if args.resume is None and args.config is None:
        raise CommandError("give --config FILE to start a run, or --resume RUN_DIR to continue one")
    try:
        if args.resume is not None:
            if not (args.resume / "config.yaml").is_file():
                raise CommandError(f"cannot resume: {args.resume / 'config.yaml'} does not exist")
            config = load_config(args.resume / "config.yaml")
        else:
            if not args.config.is_file():
                raise CommandError(f"config file {args.config} does not exist")
            config = load_config(args.config)
        run_dir = train(config, log_root=args.log_dir, resume=args.resume, progress=not args.no_progress)
    except (ValueError, TypeError) as exc:
        raise CommandError(str(exc)) from exc
    print(f"run finished: {run_dir} (deployable checkpoint: {run_dir / 'multirate.pth'})")
    return 0
