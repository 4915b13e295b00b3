"""A throw-away PostgreSQL cluster that a test can stop (``pg_ctl stop -m fast``) and start again on the same port,
for database-outage tests (issue 13). Separate from the session-wide server of ``real_servers``, which other tests
keep using."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import _as_postgres, _pg_bin, free_port, new_cluster, wait_for_port


@dataclass
class RestartablePostgres:
    url: str
    data: Path
    port: int
    sockets: Path
    log: Path

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -h 127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                [_pg_bin("pg_ctl"), "start", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60"]
            ),
            check=True,
            capture_output=True,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, as when the database server goes down."""
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60"]),
            check=True,
            capture_output=True,
        )


@contextmanager
def restartable_postgres() -> Iterator[RestartablePostgres]:
    """A started cluster with an empty ``licbench`` database; stopped and removed afterwards."""
    workdir, data, sockets = new_cluster("licbench-pg-outage-")
    port = free_port()
    server = RestartablePostgres(
        f"postgresql+psycopg://licbench@127.0.0.1:{port}/licbench", data, port, sockets, workdir / "postgres.log"
    )
    server.start()
    try:
        subprocess.run(
            _as_postgres([_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "licbench", "licbench"]),
            check=True,
            capture_output=True,
        )
        yield server
    finally:
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "stop", "-D", str(data), "-m", "immediate", "-w"]), capture_output=True
        )
        shutil.rmtree(workdir, ignore_errors=True)
