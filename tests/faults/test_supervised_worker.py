"""`licbench run` supervises its worker and its web server: a child that exits is started again after 1, 2, 4 ...
s (capped by WORKER_RESTART_MAX_DELAY_S), each restart logged; tested by killing (SIGKILL) the worker and the
uvicorn server that one `licbench run` started."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from app.commands.service import SupervisedWorker
from tests.support.faults import kill, wait_until
from tests.support.images import png_bytes, random_photo
from tests.support.servers import free_port, wait_for_port
from tests.support.stack import ROOT


def test_supervisor_backs_off_1_2_4_capped_while_the_worker_keeps_exiting():
    lines: list[str] = []
    worker = SupervisedWorker([sys.executable, "-c", "import sys; sys.exit(3)"], max_delay=2.0, log=lines.append)
    worker.start()
    try:
        wait_until(lambda: worker.restarts >= 3, timeout=30, what="three restarts")
    finally:
        worker.stop()
    delays = [
        float(m.group(1)) for line in lines if (m := re.search(r"exited with code 3; restarting it in (\S+) s", line))
    ]
    assert delays[:3] == [1.0, 2.0, 2.0], lines  # 1, 2, then capped at max_delay
    assert worker.process.poll() is not None


def _child(run: psutil.Process, marker: str) -> psutil.Process | None:
    """The live child of `licbench run` whose command line names ``marker`` (celery, uvicorn)."""
    for child in run.children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and marker in " ".join(child.cmdline()):
                return child
        except psutil.Error:  # gone meanwhile (the killed child, before its parent reaps it)
            continue
    return None


def _worker_main(run: psutil.Process) -> psutil.Process | None:
    return _child(run, "celery")


@dataclass
class LicbenchRun:
    process: subprocess.Popen
    env: dict[str, str]
    port: int
    log_path: Path

    @property
    def psutil(self) -> psutil.Process:
        return psutil.Process(self.process.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def licbench_run(tmp_path_factory) -> Iterator[LicbenchRun]:
    """`licbench run --no-demo` on the embedded defaults in a temporary DATA_DIR; stopped with SIGTERM after,
    which must stop its worker and server too."""
    tmp_path = tmp_path_factory.mktemp("licbench-run")
    data_dir, port = tmp_path / "data", free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL")}
    env.update(
        DATA_DIR=str(data_dir), PORT=str(port), WORKER_CONCURRENCY="1", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1"
    )
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--no-demo"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    run_process = psutil.Process(run.pid)
    children: list[psutil.Process] = []
    try:
        wait_for_port(port, timeout=240, process=run)
        yield LicbenchRun(run, env, port, log_path)
    finally:
        children = run_process.children(recursive=True) if run.poll() is None else []
        run.terminate()  # SIGTERM: `licbench run` stops its server and worker, then exits
        try:
            run.wait(timeout=60)
        except subprocess.TimeoutExpired:
            kill(run)
        gone, alive = psutil.wait_procs(children, timeout=30)
        for process in alive:
            kill(process)
    assert run.returncode == 0, run.returncode
    assert not alive, f"licbench run left {alive} running"


def test_licbench_run_restarts_the_web_server_it_started_after_kill_9(licbench_run):
    run_process = licbench_run.psutil
    first = wait_until(lambda: _child(run_process, "uvicorn"), 60, 0.2, "server process")
    kill(first)
    second = wait_until(
        lambda: (s := _child(run_process, "uvicorn")) and s.pid != first.pid and s, 60, 0.1, "server restarted"
    )

    def healthy():
        try:
            return httpx.get(f"http://127.0.0.1:{licbench_run.port}/api/v1/health", timeout=5).status_code == 200
        except httpx.TransportError:  # not listening yet
            return False

    wait_until(healthy, 240, 0.3, "/api/v1/health 200 from the restarted server")
    assert re.search(rf"server \(pid {first.pid}\) exited with code -9; restarting it in 1 s", licbench_run.log())
    assert f"server restarted (pid {second.pid}, restart 1)" in licbench_run.log()


def test_licbench_run_restarts_the_worker_it_started_after_kill_9(licbench_run):
    env, port, read_log = licbench_run.env, licbench_run.port, licbench_run.log
    run_process = licbench_run.psutil
    first = wait_until(lambda: _worker_main(run_process), 60, 0.2, "worker process")
    wait_until(lambda: "ready." in read_log(), 240, 0.2, "first worker ready")
    pool = first.children(recursive=True)
    killed_at = time.monotonic()
    kill(first)
    for child in pool:
        kill(child)
    second = wait_until(
        lambda: (w := _worker_main(run_process)) and w.pid != first.pid and w, 60, 0.1, "worker restarted"
    )
    restarted = time.monotonic() - killed_at
    assert re.search(rf"worker \(pid {first.pid}\) exited with code -9; restarting it in 1 s", read_log())
    wait_until(lambda: f"worker restarted (pid {second.pid}, restart 1)" in read_log(), 10, 0.1, "restart logged")
    wait_until(lambda: read_log().count("ready.") >= 2, 240, 0.2, "restarted worker ready")

    # The restarted worker runs a job.
    def cli(*a, **k):
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *a], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, **k
        )

    assert cli("user", "create", "run-admin", "--admin", "--password-stdin", input="run-admin-pw\n").returncode == 0
    token = cli("token", "create", "--user", "run-admin").stdout.strip().splitlines()[-1]
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}", timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        image_set = client.post(
            "/api/v1/image-sets",
            data={"name": "supervised"},
            files=[("files", ("a.png", png_bytes(random_photo(64, 96)), "image/png"))],
        ).json()
        job = client.post(
            "/api/v1/jobs",
            json={
                "image_set_id": image_set["id"],
                "metrics": ["psnr"],
                "codecs": [{"name": "jpeg", "rate_points": [30, 80]}],
            },
        ).json()
        done = wait_until(
            lambda: (j := client.get(f"/api/v1/jobs/{job['id']}").json())["status"] not in ("queued", "running") and j,
            120,
            0.3,
            "job done",
        )
    assert done["status"] == "succeeded", done
    print(f"\n[faults] licbench run: worker killed, new worker process after {restarted:.1f} s (back-off 1 s)")
