"""``licbench run``: the web server it supervises, and a port another program holds (a one-line error at once,
not a server that exits and is restarted again and again)."""

from __future__ import annotations

import socket

from app.cli import main
from app.commands.service import server_command


def test_server_command_is_uvicorn_on_the_given_host_and_port():
    command = server_command("127.0.0.1", 8123)
    assert command[1:4] == ["-m", "uvicorn", "app.main:app"]
    assert command[command.index("--host") + 1] == "127.0.0.1" and command[command.index("--port") + 1] == "8123"


def test_run_on_a_port_in_use_says_so_and_starts_nothing(monkeypatch, capsys):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        monkeypatch.setenv("PORT", str(holder.getsockname()[1]))
        assert main(["run", "--no-demo"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("licbench run: error: cannot listen on 127.0.0.1:") and "in use" in error
