"""Backup during a running job on the embedded set-up, restore into PostgreSQL + Redis, and back (issue 32).

A real server and worker run a job; ``licbench backup`` runs while it does (``/health`` is polled meanwhile and
the slowest answer printed). The backup restores into PostgreSQL, where every job and result committed before
the snapshot reads the same over the API and the unfinished job is queued again and finished by a worker there. A
backup of that PostgreSQL installation restores into SQLite and reads the same again.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.faults import FaultStack, new_stack, wait_until
from tests.support.servers import fresh_database
from tests.support.stack import ROOT, _env

pytestmark = pytest.mark.integration
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], text=True, env=env, cwd=ROOT, capture_output=True, timeout=300
    )


def neutral(value):
    """API answers with datetimes in one spelling (SQLite answers naive UTC, PostgreSQL aware UTC)."""
    if isinstance(value, dict):
        return {k: neutral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [neutral(v) for v in value]
    if isinstance(value, str) and ISO.match(value):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    return value


def answers(client: httpx.Client, job_id: int, result_ids: set[int] | None = None) -> dict:
    job = client.get(f"/api/v1/jobs/{job_id}").json()
    results = [
        r
        for r in client.get(f"/api/v1/jobs/{job_id}/results", params={"limit": 10000}).json()
        if result_ids is None or r["id"] in result_ids
    ]
    found = {"results": neutral(results), "image_sets": neutral(client.get("/api/v1/image-sets").json())}
    if result_ids is None:
        found["job"] = neutral(job)
        found["rd"] = neutral(client.get(f"/api/v1/jobs/{job_id}/rd").json())
    found["pngs"] = [client.get(f"/api/v1/results/{r['id']}/reconstruction").content for r in results[:4]]
    return found


def _backup_with_health_probe(stack, dest: Path) -> float:
    """Run ``licbench backup`` while polling /health; the slowest /health answer in seconds."""
    slowest = [0.0]
    done = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=stack.base_url, timeout=30) as client:
            while not done.is_set():
                started = time.perf_counter()
                client.get("/api/v1/health")
                slowest[0] = max(slowest[0], time.perf_counter() - started)
                time.sleep(0.02)

    thread = threading.Thread(target=probe)
    thread.start()
    try:
        backed_up = _cli(stack.env, "backup", str(dest))
    finally:
        done.set()
        thread.join()
    assert backed_up.returncode == 0, backed_up.stderr
    return slowest[0]


def test_backup_while_a_job_runs_restores_across_engines(real_servers, tmp_path):
    database_url, broker_url = real_servers
    data_dir = tmp_path / "embedded"
    source = new_stack(
        f"sqlite:///{data_dir / 'licbench.sqlite'}", f"sqla+sqlite:///{data_dir / 'broker.sqlite'}", data_dir
    )
    target = None
    try:
        source.start()
        first = source.submit_job(
            source.upload_photos("done", count=1, size=(48, 64)), {"jpeg": [30.0, 70.0]}, ["psnr"]
        )
        wait_until(lambda: source.job(first)["status"] == "succeeded", 120, 0.2, "first job done")
        running = source.submit_job(
            source.upload_photos("running", count=2, size=(160, 192)),
            {"jpeg": [float(q) for q in range(5, 100, 5)]},
            ["psnr", "ssim"],
        )
        wait_until(lambda: source.job(running)["progress"]["done"] > 0, 120, 0.05, "second job started")
        # Hold the worker still while the backup runs, so the snapshot catches the job unfinished however fast this
        # machine is (the API keeps answering: SQLite runs in WAL mode, readers never wait for a paused writer).
        paused = [psutil.Process(source.worker.pid), *source.worker_children()]
        for process in paused:
            process.suspend()
        try:
            slowest = _backup_with_health_probe(source, tmp_path / "bk")
        finally:
            for process in paused:
                process.resume()
        print(f"slowest /health answer during the backup: {slowest * 1000:.0f} ms")
        rows = [json.loads(line) for line in (tmp_path / "bk" / "db" / "results.jsonl").read_text().splitlines()]
        in_backup = {r["id"] for r in rows if r["job_id"] == running}
        jobs = {
            json.loads(line)["id"]: json.loads(line)
            for line in (tmp_path / "bk" / "db" / "jobs.jsonl").read_text().splitlines()
        }
        assert jobs[running]["status"] in ("queued", "running")  # the backup caught it unfinished
        wait_until(lambda: source.job(running)["status"] == "succeeded", 300, 0.5, "second job done")
        with source.client() as client:
            expected_first = answers(client, first)
            expected_running = answers(client, running, in_backup)
        source.close()

        # SQLite -> PostgreSQL + Redis; the unfinished job is queued again and a worker there finishes it
        pg_url = fresh_database(database_url, "backup_target")
        target_dir = tmp_path / "postgres-data"
        # a Redis database of its own: the session's other stacks have workers on database 0
        target_env = _env(pg_url, broker_url.rsplit("/", 1)[0] + "/7", target_dir)
        restored = _cli(target_env, "restore", str(tmp_path / "bk"))
        assert restored.returncode == 0, restored.stderr
        assert "queued again, sent to the queue" in restored.stdout
        target = FaultStack(target_env, target_dir, token=source.token)  # tokens travel with the backup
        target.start()
        with target.client() as client:
            assert answers(client, first) == expected_first
            assert answers(client, running, in_backup) == expected_running
        wait_until(lambda: target.job(running)["status"] == "succeeded", 300, 0.5, "restored job finished")
        assert len(target.results(running)) == 2 * 19
        with target.client() as client:
            final = answers(client, running)
        target.close()

        # PostgreSQL -> SQLite
        assert _cli(target_env, "backup", str(tmp_path / "bk2")).returncode == 0
        back_dir = tmp_path / "back"
        back_env = _env(
            f"sqlite:///{back_dir / 'licbench.sqlite'}", f"sqla+sqlite:///{back_dir / 'broker.sqlite'}", back_dir
        )
        restored = _cli(back_env, "restore", str(tmp_path / "bk2"))
        assert restored.returncode == 0, restored.stderr
        back = FaultStack(back_env, back_dir, token=source.token)
        try:
            back.start_server()
            with back.client() as client:
                assert answers(client, first) == expected_first
                assert answers(client, running) == final
        finally:
            back.close()
        verified = _cli(back_env, "verify")
        assert verified.returncode == 0 and "0 missing, 0 changed" in verified.stdout, verified.stdout
    finally:
        source.close()
        if target is not None:
            target.close()
