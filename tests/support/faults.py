"""Real licbench processes that the fault tests kill: a web server, a Celery worker, a persistent Redis.

Unlike ``tests.support.stack.running_stack`` every process can be killed (SIGKILL or a graceful stop) and
started again on the same port and data. Every wait is bounded in time; :meth:`FaultStack.close` kills every
process the stack started (by pid).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import psutil

from tests.support.images import png_bytes, random_photo
from tests.support.servers import free_port, kill, kill_trees, stop_process, wait_for_port
from tests.support.stack import ROOT, _env


def wait_until(condition: Callable[[], object], timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll ``condition`` until it returns something truthy (returned); TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached after {timeout} s")


@dataclass
class FaultStack:
    """A web server and a worker on given database and broker URLs, each killable and restartable."""

    env: dict[str, str]
    data_dir: Path
    port: int = field(default_factory=free_port)
    server: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    token: str = ""
    _started: list[subprocess.Popen] = field(default_factory=list)
    _ready_before: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, timeout: float = 60) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=timeout, headers={"Authorization": f"Bearer {self.token}"})

    def _cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            input=stdin,
            text=True,
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def prepare(self) -> None:
        """Migrate and make an admin with a token for the test client."""
        self._cli("db", "upgrade")
        self._cli("user", "create", "fault-admin", "--admin", "--password-stdin", stdin="fault-admin-password\n")
        self.token = self._cli("token", "create", "--user", "fault-admin").strip().splitlines()[-1]

    def _spawn(self, command: list[str], log_name: str, **kwargs) -> subprocess.Popen:
        log = open(self.data_dir / log_name, "ab")
        process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, **kwargs)
        log.close()
        self._started.append(process)
        return process

    def start_server(self, timeout: float = 240) -> None:
        self.server = self._spawn(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(self.port)],
            "server.log",
        )
        wait_for_port(self.port, timeout=timeout, process=self.server)

    def start_worker(self, concurrency: int = 1, timeout: float = 240, wait: bool = True) -> None:
        """Start the worker and (``wait``) wait until Celery logs that it is ready."""
        self._ready_before = self.log("worker.log").count("ready.")
        self.worker = self._spawn(
            [sys.executable, "-m", "app.cli", "worker", "--concurrency", str(concurrency)], "worker.log"
        )
        if wait:
            self.wait_for_worker(timeout)

    def wait_for_worker(self, timeout: float = 240) -> None:
        wait_until(
            lambda: self.log("worker.log").count("ready.") > self._ready_before or self.worker.poll() is not None,
            timeout,
            0.2,
            "worker ready",
        )
        assert self.worker.poll() is None, self.log("worker.log")[-3000:]

    def start(self) -> None:
        """Server and worker, started side by side (each imports torch: slow on a busy machine)."""
        self.start_worker(wait=False)
        self.start_server()
        self.wait_for_worker()

    def log(self, name: str) -> str:
        path = self.data_dir / name
        return path.read_text(errors="replace") if path.exists() else ""

    def worker_children(self) -> list[psutil.Process]:
        """The worker's pool processes (the main process is ``self.worker``)."""
        try:
            return psutil.Process(self.worker.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def kill_worker_main(self) -> None:
        """SIGKILL the worker's main process and its pool processes (all by pid)."""
        kill_trees([self.worker])

    def kill_server(self) -> None:
        kill(self.server)
        self.server.wait(timeout=30)

    def close(self) -> None:
        """SIGKILL every process the stack started, with its children (:func:`tests.support.servers.kill_trees`)."""
        kill_trees(self._started)

    # -- the job the fault tests run ---------------------------------------------------------------------
    def upload_photos(self, name: str, count: int = 3, size: tuple[int, int] = (192, 256)) -> int:
        files = [("files", (f"p{i}.png", png_bytes(random_photo(*size, seed=i)), "image/png")) for i in range(count)]
        with self.client() as client:
            answer = client.post("/api/v1/image-sets", data={"name": name}, files=files)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def submit_job(self, image_set_id: int, codecs: dict[str, list[float]], metrics: list[str]) -> int:
        body = {
            "image_set_id": image_set_id,
            "metrics": metrics,
            "codecs": [{"name": n, "rate_points": rps} for n, rps in codecs.items()],
        }
        with self.client() as client:
            answer = client.post("/api/v1/jobs", json=body)
        assert answer.status_code in (201, 202), answer.text
        return answer.json()["id"]

    def results(self, job_id: int) -> list[dict]:
        with self.client() as client:
            answer = client.get(f"/api/v1/jobs/{job_id}/results", params={"limit": 10000})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def task_counts(self, job_id: int) -> Counter:
        """Result rows per task (image, codec)."""
        return Counter((r["image_id"], r["codec"]) for r in self.results(job_id))

    def job(self, job_id: int) -> dict:
        with self.client() as client:
            return client.get(f"/api/v1/jobs/{job_id}").json()

    def wait_for_job(self, job_id: int, timeout: float) -> dict:
        job = wait_until(
            lambda: (j := self.job(job_id))["status"] not in ("queued", "running") and j,
            timeout,
            0.3,
            f"job {job_id} finished",
        )
        return job


@dataclass
class MidTask:
    """What was seen when a task was caught half done: its key, rows then, and when."""

    task: tuple[int, str]
    rows: int
    at: float


def catch_task_midway(stack: FaultStack, job_id: int, rate_points: int, timeout: float = 120) -> MidTask:
    """Poll the job's rows until some task (image, codec) has stored some but not all of its rate points."""

    def partial():
        for task, rows in stack.task_counts(job_id).items():
            if 0 < rows < rate_points:
                return MidTask(task, rows, time.monotonic())
        return None

    return wait_until(partial, timeout, 0.05, f"a task of job {job_id} half done")


@dataclass
class Kill:
    """A task caught half done, then killed: the job, what was seen, when (monotonic and wall clock), which try."""

    job_id: int
    caught: MidTask
    at: float
    wall: float
    tries: int


def kill_task_midway(
    stack: FaultStack,
    name: str,
    kill_now: Callable[[], None],
    recover: Callable[[], None] = lambda: None,
    tries: int = 3,
) -> tuple[Kill, list[int]]:
    """Queue a fault job, catch one of its tasks half done and call ``kill_now``. The kill counts only if that task
    is still incomplete right after it: its message was then unacknowledged (``task_acks_late``), so it must come
    back. A task can finish between the poll that saw it half done and the kill (on a busy machine, with a job's
    last task, nothing is then in flight and nothing can be redelivered); such a try is undone with ``recover``
    and repeated with a new job. Returns the kill and every job queued (each must still complete, once)."""
    rate_points = len(FAULT_RATE_POINTS)
    jobs: list[int] = []
    for attempt in range(1, tries + 1):
        job_id = start_fault_job(stack, f"{name}-{attempt}")
        jobs.append(job_id)
        caught = catch_task_midway(stack, job_id, rate_points)
        at, wall = time.monotonic(), time.time()
        kill_now()
        if stack.task_counts(job_id)[caught.task] < rate_points:
            return Kill(job_id, caught, at, wall, attempt), jobs
        recover()
    raise AssertionError(f"in {tries} tries the caught task had always finished before the kill")


def seconds_until_resumed(
    stack: FaultStack, job_id: int, caught: MidTask, killed_at: float, timeout: float = 180
) -> float:
    """Seconds from ``killed_at`` until the caught task stores a row again (its redelivery ran)."""
    wait_until(
        lambda: stack.task_counts(job_id)[caught.task] > caught.rows,
        timeout,
        0.1,
        f"task {caught.task} of job {job_id} resumed",
    )
    return time.monotonic() - killed_at


_RECEIVED = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/MainProcess\] "
    r"Task licbench\.run_task\[([0-9a-f-]+)\] received",
    re.M,
)


def seconds_until_received_again(stack: FaultStack, killed_wall: float, timeout: float = 180) -> float:
    """Seconds from ``killed_wall`` (``time.time()``) until a worker logs receiving a task message it had
    already received before then: the redelivery of the lost task, as the worker log times it."""

    def redelivered():
        received = [
            (datetime.strptime(ts, "%Y-%m-%d %H:%M:%S,%f").timestamp(), task_id)
            for ts, task_id in _RECEIVED.findall(stack.log("worker.log"))
        ]
        before = {task_id for at, task_id in received if at < killed_wall}
        again = [at for at, task_id in received if at >= killed_wall and task_id in before]
        return again and (min(again) - killed_wall)

    try:
        return wait_until(redelivered, timeout, 0.2, "a task message received again")
    except TimeoutError as error:  # CI keeps no worker log: carry its task lines in the failure
        lines = [line for line in stack.log("worker.log").splitlines() if "run_task" in line or "ERROR" in line]
        raise TimeoutError(
            f"{error}; killed at {datetime.fromtimestamp(killed_wall)}; worker log:\n" + "\n".join(lines[-30:])
        ) from None


def assert_complete_once(stack: FaultStack, job_id: int, expected_rows: int) -> None:
    """The job succeeded with every (image, codec, rate point) exactly once and one reconstruction file each."""
    job = stack.job(job_id)
    assert job["status"] == "succeeded", job
    results = stack.results(job_id)
    keys = Counter((r["image_id"], r["codec"], r["rate_point"]) for r in results)
    assert len(results) == expected_rows == len(keys), (len(results), expected_rows, keys.most_common(3))
    files = list((stack.data_dir / "reconstructions" / str(job_id)).glob("*.png"))
    assert len(files) == expected_rows, f"{len(files)} reconstruction files for {expected_rows} rows"


@contextmanager
def persistent_redis(workdir: Path) -> Iterator[RedisProcess]:
    """A Redis with the append-only file fsynced on every write (as docker-compose.yml configures it)."""
    redis = RedisProcess(workdir)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@dataclass
class RedisProcess:
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server not found: run `make test` (it apt-installs redis-server)"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=30, process=self.process)

    def kill(self) -> None:
        kill(self.process)
        self.process.wait(timeout=30)

    def shutdown(self) -> None:
        """Redis's graceful SHUTDOWN (it writes its files and exits)."""
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown"], capture_output=True, timeout=30)
        self.process.wait(timeout=30)

    def queued(self, queue: str = "cpu") -> int:
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), "llen", queue], capture_output=True, text=True, timeout=30
        ).stdout.strip()
        return int(out or 0)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_process(self.process, timeout=15)


def new_stack(database_url: str, broker_url: str, data_dir: Path, **settings: str) -> FaultStack:
    """A prepared (migrated, admin made) stack; nothing started yet."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = _env(database_url, broker_url, data_dir)
    env.update(settings)
    stack = FaultStack(env, data_dir)
    stack.prepare()
    return stack


def photos_body(count: int, size: tuple[int, int]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f"big{i}.png", png_bytes(random_photo(*size, seed=100 + i)), "image/png")) for i in range(count)]


# The job every fault test runs: a few small photos, two classical codecs, enough rate points per task that a
# task is caught half done (a task = one image x one codec, its rate points stored one row at a time).
FAULT_RATE_POINTS = [float(q) for q in range(10, 100, 9)]  # 10 JPEG/WebP qualities
FAULT_CODECS = {"jpeg": FAULT_RATE_POINTS, "webp": FAULT_RATE_POINTS}
FAULT_METRICS = ["psnr", "ssim"]
FAULT_IMAGES = 3
FAULT_ROWS = FAULT_IMAGES * len(FAULT_CODECS) * len(FAULT_RATE_POINTS)


def start_fault_job(stack: FaultStack, name: str) -> int:
    """Upload the fault photos (once per stack) and queue the fault job; returns its id."""
    image_set_id = stack.upload_photos(name, FAULT_IMAGES, (192, 256))
    return stack.submit_job(image_set_id, FAULT_CODECS, FAULT_METRICS)
