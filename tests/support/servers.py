"""Start and stop real PostgreSQL and Redis servers on loopback for the integration tests."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def stop_process(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM, then SIGKILL if it does not exit in ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def kill(process: psutil.Process | subprocess.Popen) -> None:
    """SIGKILL one process by its pid (no-op if it is gone)."""
    try:
        process.send_signal(signal.SIGKILL)
    except (psutil.NoSuchProcess, ProcessLookupError):
        pass


def kill_trees(processes: list[subprocess.Popen]) -> None:
    """SIGKILL the processes that still run and all their children (by pid), then reap them.

    For the teardown of throw-away licbench stacks: a Celery worker's warm shutdown (SIGTERM) takes seconds even
    when idle (up to 2 s for the broker poll to end, then the interpreter's last garbage collection with torch
    loaded) and waits for a running task, and nothing reads a stack's data after it is closed."""
    victims: list[psutil.Process] = []
    for process in processes:
        if process.poll() is None:
            try:
                parent = psutil.Process(process.pid)
                victims += [parent, *parent.children(recursive=True)]  # children first known, then killed
            except psutil.NoSuchProcess:
                pass
    for victim in victims:
        kill(victim)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    psutil.wait_procs(victims, timeout=30)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found: run `make test` (it apt-installs postgresql)")
    return found[-1]


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: drop to the `postgres` system user.
    return ["runuser", "-u", "postgres", "--"] + cmd if os.geteuid() == 0 else cmd


def new_cluster(prefix: str) -> tuple[Path, Path, Path]:
    """An initdb'd, not yet started PostgreSQL cluster (user ``licbench``, trust auth): its folder, data folder and
    socket folder. Its own folder under /tmp: the `postgres` user cannot enter pytest's root-only temp dirs."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    data, sockets = workdir / "pgdata", workdir / "pgsock"
    sockets.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run(
        _as_postgres([_pg_bin("initdb"), "-D", str(data), "-U", "licbench", "--auth=trust", "-E", "UTF8", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    return workdir, data, sockets


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL cluster; yields a SQLAlchemy URL of an empty database."""
    workdir, data, sockets = new_cluster("licbench-pg-")
    port = free_port()
    log = open(workdir / "postgres.log", "wb")
    process = subprocess.Popen(
        _as_postgres(
            [
                _pg_bin("postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(sockets),
                "-h",
                "127.0.0.1",
                "-c",
                "fsync=off",
            ]
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process=process)
        for _ in range(50):
            done = subprocess.run(
                _as_postgres([_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "licbench", "licbench"]),
                capture_output=True,
            )
            if done.returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(done.stderr.decode())
        yield f"postgresql+psycopg://licbench@127.0.0.1:{port}/licbench"
    finally:
        stop_process(process)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A throw-away Redis server without persistence; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: run `make test` (it apt-installs redis-server)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process=process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop_process(process)


def fresh_database(database_url: str, name: str) -> str:
    """A new empty database ``name`` on the server of ``database_url`` (dropped first if it exists); its URL.

    Lets a test stack share the session's PostgreSQL server (one initdb and start-up) with its own data.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(database_url).set(database=name).render_as_string(hide_password=False)
