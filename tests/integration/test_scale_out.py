"""Issue 13 (scale): two worker processes on separate queues against one Redis and one PostgreSQL.

The server sends classical codecs to ``cpu`` and learned ones to ``LEARNED_QUEUE=gpu`` (here a CPU "gpu"
worker); the learned-codec worker reserves one message at a time (``licbench worker --prefetch 1``). The task
state table records which process ran each task (``hostname:pid`` of a pool child), whose parent is one of the
two workers.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.db.tables import Result, Task
from tests.support.images import png_bytes, random_photo
from tests.support.servers import free_port, fresh_database, kill_trees, wait_for_port
from tests.support.stack import ROOT, _env

pytestmark = pytest.mark.integration


def _parent_pid(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1])  # after "pid (comm)": state, ppid


def _cli(env, *args, stdin: str | None = None) -> str:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout


@pytest.fixture(scope="module")
def two_worker_stack(real_servers, tmp_path_factory):
    database_url, broker_url = real_servers
    data_dir = tmp_path_factory.mktemp("scale-out")
    env = _env(fresh_database(database_url, "scaleout"), broker_url.rsplit("/", 1)[0] + "/5", data_dir)
    env["LEARNED_QUEUE"] = "gpu"
    _cli(env, "db", "upgrade")
    port = free_port()
    logs = {name: open(data_dir / f"{name}.log", "wb") for name in ("server", "cpu", "gpu")}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=logs["server"],
        stderr=subprocess.STDOUT,
    )
    workers = {
        "cpu": subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "worker",
                "--queues",
                "cpu",
                "--concurrency",
                "1",
                "--prefetch",
                "4",
                "--name",
                "cpu@%h",
            ],
            env=env,
            cwd=ROOT,
            stdout=logs["cpu"],
            stderr=subprocess.STDOUT,
        ),
        "gpu": subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "worker",
                "--queues",
                "gpu",
                "--concurrency",
                "1",
                "--prefetch",
                "1",
                "--name",
                "gpu@%h",
            ],
            env=env,
            cwd=ROOT,
            stdout=logs["gpu"],
            stderr=subprocess.STDOUT,
        ),
    }
    try:
        # the admin and its token need only the migrated database: made while server and workers import torch
        _cli(env, "user", "create", "scaler", "--admin", "--password-stdin", stdin="scaler-password-123\n")
        token = _cli(env, "token", "create", "--user", "scaler").strip().splitlines()[-1]
        wait_for_port(port, timeout=240, process=server)
        yield {
            "base_url": f"http://127.0.0.1:{port}",
            "token": token,
            "env": env,
            "workers": workers,
            "logs": {name: data_dir / f"{name}.log" for name in logs},
        }
    finally:
        kill_trees([*workers.values(), server])
        for handle in logs.values():
            handle.close()


def test_classical_tasks_run_on_the_cpu_worker_and_learned_ones_on_the_gpu_worker(two_worker_stack):
    stack = two_worker_stack
    headers = {"Authorization": f"Bearer {stack['token']}"}
    with httpx.Client(base_url=stack["base_url"], headers=headers, timeout=60) as client:
        upload = client.post(
            "/api/v1/image-sets",
            data={"name": "scale-out"},
            files=[
                ("files", (f"p{i}.png", png_bytes(random_photo(64, 96, seed=40 + i)), "image/png")) for i in range(3)
            ],
        )
        assert upload.status_code == 201, upload.text
        created = client.post(
            "/api/v1/jobs",
            json={
                "image_set_id": upload.json()["id"],
                "codecs": [
                    {"name": "jpeg", "rate_points": [30, 70]},
                    {"name": "tiny-hyperprior", "rate_points": [1, 4]},
                ],
                "metrics": ["psnr"],
            },
        )
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        deadline = time.monotonic() + 300
        while (job := client.get(f"/api/v1/jobs/{job_id}").json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, (job, {n: p.read_text()[-2000:] for n, p in stack["logs"].items()})
            time.sleep(0.5)
    assert job["status"] == "succeeded", job
    assert job["progress"] == {"done": 12, "total": 12}

    engine = create_engine(stack["env"]["DATABASE_URL"])
    with Session(engine) as session:
        tasks = list(session.scalars(select(Task).where(Task.job_id == job_id)))
        assert session.query(Result).filter(Result.job_id == job_id).count() == 12
    engine.dispose()
    assert len(tasks) == 6 and all(t.state == "done" for t in tasks)
    main_pids = {name: process.pid for name, process in stack["workers"].items()}
    ran_on = {}
    for task in tasks:
        host, pid = task.worker.rsplit(":", 1)
        assert host == socket.gethostname()
        parent = _parent_pid(int(pid))
        owner = next((name for name, main in main_pids.items() if main in (int(pid), parent)), None)
        assert owner is not None, (task.worker, main_pids)
        ran_on.setdefault(task.codec, set()).add(owner)
    assert ran_on == {"jpeg": {"cpu"}, "tiny-hyperprior": {"gpu"}}, ran_on


def test_each_worker_reserves_the_messages_its_prefetch_option_says(two_worker_stack):
    """Celery's remote control (over Redis) reports each worker's prefetch count: concurrency x multiplier."""
    env = two_worker_stack["env"]
    host = socket.gethostname()
    answer = subprocess.run(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "inspect",
            "stats",
            "--json",
            "-d",
            f"gpu@{host},cpu@{host}",
            "--timeout",
            "10",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr[-2000:]
    stats = json.loads(answer.stdout.strip().splitlines()[-1])
    assert stats[f"gpu@{host}"]["prefetch_count"] == 1, stats[f"gpu@{host}"]
    assert stats[f"cpu@{host}"]["prefetch_count"] == 4  # the classical worker reserves more (short tasks)
