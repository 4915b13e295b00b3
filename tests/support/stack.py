"""Run the real licbench processes (uvicorn web server + Celery worker) against given DB and broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.servers import free_port, kill_trees, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    base_url: str
    env: dict[str, str]
    data_dir: Path
    worker_log: Path
    user: str = ""  # an admin made for the tests (issue 12: mutating routes need a user)
    password: str = ""
    token: str = ""

    def client(self) -> httpx.Client:
        """An HTTP client that speaks as the stack's admin (bearer token)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.base_url, timeout=60, headers=headers)

    def wait_for_job(self, job_id: int, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while time.monotonic() < deadline:
                job = client.get(f"/api/v1/jobs/{job_id}").json()
                if job["status"] not in ("queued", "running"):
                    return job
                time.sleep(0.2)
        raise TimeoutError(
            f"job {job_id} still {job['status']} after {timeout} s: {job}; "
            f"worker log tail: {self.worker_log.read_text()[-3000:]}"
        )


def _env(database_url: str, broker_url: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        BROKER_URL=broker_url,
        DATA_DIR=str(data_dir),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def running_stack(
    database_url: str, broker_url: str, data_dir: Path, concurrency: int = 2, startup_timeout: float = 60
) -> Iterator[Stack]:
    """Migrate the database, then start the web server and one worker process; stop both afterwards."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = _env(database_url, broker_url, data_dir)
    subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    port = free_port()
    server_log, worker_log = data_dir / "server.log", data_dir / "worker.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=open(server_log, "wb"),
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--concurrency", str(concurrency)],
        env=env,
        cwd=ROOT,
        stdout=open(worker_log, "wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        # The admin and its token need only the migrated database: made while server and worker import torch.
        user, password = "stack-admin", "stack-admin-password"
        subprocess.run(
            [sys.executable, "-m", "app.cli", "user", "create", user, "--admin", "--password-stdin"],
            input=password + "\n",
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        token = (
            subprocess.run(
                [sys.executable, "-m", "app.cli", "token", "create", "--user", user],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        wait_for_port(port, timeout=startup_timeout, process=server)
        yield Stack(f"http://127.0.0.1:{port}", env, data_dir, worker_log, user, password, token)
    finally:
        kill_trees([worker, server])
