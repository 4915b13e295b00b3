"""``licbench worker`` options: queues, prefetch (1 for long learned-codec tasks) and a node name."""

from __future__ import annotations

from app.commands.service import worker_command


def test_worker_command_passes_prefetch_and_name_to_celery():
    command = worker_command(1, "gpu", prefetch=1, name="gpu@%h")
    assert command[command.index("-Q") + 1] == "gpu"
    assert command[command.index("--prefetch-multiplier") + 1] == "1"
    assert command[command.index("-n") + 1] == "gpu@%h"


def test_without_prefetch_the_apps_default_applies():
    command = worker_command(2, "cpu")
    assert "--prefetch-multiplier" not in command and "-n" not in command
