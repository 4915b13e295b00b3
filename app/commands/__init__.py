"""``licbench`` sub-commands, one module each; ``app.cli.COMMAND_MODULES`` lists them.

Each module exposes ``register(subparsers)`` that adds its parser and sets ``handler`` via
``set_defaults(handler=fn)``; ``fn(args) -> int`` returns the exit code. User errors raise
``app.commands.CommandError`` (printed as a one-line message, exit code 2), never a traceback.
"""


class CommandError(Exception):
    """A user-facing CLI error: printed without a traceback."""
