"""The ``licbench`` command line."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from app.commands import CommandError

# Sub-command modules (each has ``register(subparsers)``); adding a command is adding a line.
COMMAND_MODULES = [
    "app.commands.service",
    "app.commands.codec",
    "app.commands.train",
    "app.commands.weights",
    "app.commands.score",
    "app.commands.dataset",
    "app.commands.study",
    "app.commands.user",
    "app.commands.backup",
]


# torch_geometric (imported by compressai 1.2.8) uses torch.jit.script, deprecated in torch 2.14: harmless
# noise that would break the one-line error messages the commands promise.
warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="licbench", description="Benchmark learned image codecs.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CommandError as exc:
        print(f"licbench {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
