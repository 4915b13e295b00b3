"""Chaos soak (issue 32): a busy day with faults, then a count of what was lost.

Phase 1 runs on PostgreSQL + Redis, phase 2 on the embedded defaults (SQLite database and broker, process faults
only); each runs ``--minutes``. `licbench run --no-demo` serves and supervises the worker and the API server. Eight
clients upload images, start jobs (JPEG, WebP and ``licbench-multirate`` when its weights are installed), answer
study trials and read results, RD curves, BD-rates and the leaderboard. Meanwhile a fault is injected every
``--fault-every`` seconds (uniform within 2-4 minutes by default), at times and of kinds drawn from the printed
seed: SIGKILL of a worker pool process, SIGKILL of the worker, a Redis restart, a PostgreSQL restart, SIGKILL of
the API server. A fault window lasts from the fault until ``/health`` answers 200 after the fault is over (the
killed process is gone, the restarted server is up again).

Printed per phase: jobs finished (succeeded / failed with a reason / unfinished), results lost (rate points with
neither a result nor a recorded failure, plus result files missing or changed per ``licbench verify``) and
duplicated (two rows for one image x codec x rate point), uploads and study answers lost, 5xx answers other than
503 inside a fault window, p50/p99 per endpoint outside the fault windows, and the longest a job waited for
progress after a fault.

    python benchmarks/soak.py [--minutes 20] [--seed N] [--clients 8] [--phases postgres,embedded]
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.faults import RedisProcess, kill  # noqa: E402
from tests.support.restartable_postgres import restartable_postgres  # noqa: E402
from tests.support.servers import free_port, wait_for_port  # noqa: E402

PROCESS_FAULTS = ("pool", "worker", "server")
SERVER_FAULTS = ("redis", "postgres")
SUBMIT_EVERY_S = 20.0  # per client: a day's steady load that a 2-process worker keeps up with


def photo(seed: int, height: int = 48, width: int = 64) -> bytes:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    pixels = np.kron(base, np.ones((8, 8, 1), dtype=np.uint8))[:height, :width]
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Record:
    kind: str
    started: float
    seconds: float
    status: int | None  # None: no answer (connection refused or reset)


@dataclass
class Ledger:
    """What the clients were told was stored: what must still be there at the end."""

    records: list[Record] = field(default_factory=list)
    image_sets: list[int] = field(default_factory=list)
    jobs: list[int] = field(default_factory=list)
    answers: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # study -> trial ids
    lock: threading.Lock = field(default_factory=threading.Lock)


class Service:
    """`licbench run` on given URLs, its children findable and killable by pid."""

    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.env, self.data_dir = env, data_dir
        self.port = int(env["PORT"])
        self.process: subprocess.Popen | None = None

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "app.cli", *args], env=self.env, cwd=ROOT, input=stdin,
                              text=True, capture_output=True, timeout=600)

    def start(self) -> str:
        assert self.cli("db", "upgrade").returncode == 0
        assert self.cli("user", "create", "soak", "--admin", "--password-stdin", stdin="soak-password-0\n").returncode == 0
        token = self.cli("token", "create", "--user", "soak").stdout.strip().splitlines()[-1]
        log = open(self.data_dir / "run.log", "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "app.cli", "run", "--no-demo"], env=self.env, cwd=ROOT,
                                        stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, timeout=300, process=self.process)
        deadline = time.monotonic() + 300
        while "ready." not in (self.data_dir / "run.log").read_text(errors="replace"):
            assert time.monotonic() < deadline, "worker never got ready"
            time.sleep(0.5)
        return token

    def children(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []

    def _child(self, word: str) -> psutil.Process | None:
        for child in self.children():
            try:
                if word in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                    return child
            except psutil.Error:
                continue
        return None

    def kill_worker(self) -> str:
        worker = self._child("celery")
        if worker is None:
            return "no worker running"
        pool = worker.children(recursive=True)
        kill(worker)
        for child in pool:
            kill(child)
        return f"worker pid {worker.pid} and {len(pool)} pool processes"

    def kill_pool_process(self) -> str:
        worker = self._child("celery")
        pool = worker.children() if worker else []
        if not pool:
            return "no pool process"
        victim = random.choice(pool)
        kill(victim)
        return f"pool pid {victim.pid}"

    def kill_server(self) -> str:
        server = self._child("uvicorn")
        if server is None:
            return "no server running"
        kill(server)
        return f"server pid {server.pid}"

    def stop(self) -> None:
        if self.process is None:
            return
        everyone = psutil.Process(self.process.pid).children(recursive=True) if self.process.poll() is None else []
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            kill(self.process)
        _, alive = psutil.wait_procs(everyone, timeout=30)
        for process in alive:
            kill(process)


class Client(threading.Thread):
    def __init__(self, index: int, base_url: str, token: str, ledger: Ledger, stop: threading.Event,
                 codecs: dict[str, list[float]], seed: int) -> None:
        super().__init__(daemon=True)
        self.index, self.ledger, self.stop_event, self.codecs = index, ledger, stop, codecs
        self.rng = random.Random(seed * 100 + index)
        self.http = httpx.Client(base_url=base_url, timeout=120, headers={"Authorization": f"Bearer {token}"})
        self.sets: list[int] = []
        self.jobs: list[int] = []
        self.study: dict | None = None
        self.session: str | None = None
        self.last_submit = -SUBMIT_EVERY_S

    def call(self, kind: str, method: str, url: str, **kwargs) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError:
            response = None
        with self.ledger.lock:
            self.ledger.records.append(Record(kind, started, time.monotonic() - started,
                                              None if response is None else response.status_code))
        return response

    def run(self) -> None:
        while not self.stop_event.is_set():
            roll = self.rng.random()
            if roll < 0.1 or not self.sets:
                self.upload()
            elif (roll < 0.25 or not self.jobs) and time.monotonic() - self.last_submit > SUBMIT_EVERY_S:
                self.last_submit = time.monotonic()
                self.submit()
            elif roll < 0.5:
                self.answer()
            elif self.jobs:
                self.read()
            time.sleep(self.rng.uniform(0.05, 0.3))
        self.http.close()

    def upload(self) -> None:
        files = [("files", (f"c{self.index}-{i}.png", photo(self.rng.randrange(10**6)), "image/png"))
                 for i in range(self.rng.randint(1, 2))]
        response = self.call("upload", "POST", "/api/v1/image-sets", data={"name": f"soak {self.index}"}, files=files)
        if response is not None and response.status_code == 201:
            self.sets.append(response.json()["id"])
            with self.ledger.lock:
                self.ledger.image_sets.append(self.sets[-1])

    def submit(self) -> None:
        name = self.rng.choice(sorted(self.codecs))
        body = {"image_set_id": self.rng.choice(self.sets), "metrics": ["psnr"],
                "codecs": [{"name": name, "rate_points": self.codecs[name]}]}
        response = self.call("submit job", "POST", "/api/v1/jobs", json=body)
        if response is not None and response.status_code in (201, 202):
            self.jobs.append(response.json()["id"])
            with self.ledger.lock:
                self.ledger.jobs.append(self.jobs[-1])

    def answer(self) -> None:
        if self.study is None:
            for job_id in self.jobs:
                job = self.call("job", "GET", f"/api/v1/jobs/{job_id}")
                if job is not None and job.status_code == 200 and job.json()["status"] == "succeeded":
                    created = self.call("create study", "POST", "/api/v1/studies", json={
                        "name": f"soak {self.index}", "method": "pairwise", "job_id": job_id,
                        "trials_per_session": 200, "sampling": "balanced", "crop": 32, "min_viewing_ms": 0})
                    if created is not None and created.status_code == 201:
                        self.study = created.json()
                    break
            return
        base = f"/api/v1/studies/{self.study['id']}"
        if self.session is None:
            started = self.call("study session", "POST", f"{base}/sessions", json={"token": self.study["token"]})
            if started is not None and started.status_code == 201:
                self.session = started.json()["id"]
            return
        trial = self.call("next trial", "GET", f"{base}/sessions/{self.session}/next")
        if trial is not None and trial.status_code == 204:
            self.session = None  # the sitting is complete: a new one
            return
        if trial is None or trial.status_code != 200:
            return
        trial_id = trial.json()["trial_id"]
        answered = self.call("answer", "POST", f"{base}/sessions/{self.session}/responses",
                             json={"trial_id": trial_id, "choice": self.rng.choice("ab"), "response_ms": 900})
        if answered is not None and answered.status_code == 201:
            with self.ledger.lock:
                self.ledger.answers[self.study["id"]].add(trial_id)

    def read(self) -> None:
        job_id = self.rng.choice(self.jobs)
        kind, url = self.rng.choice([
            ("results", f"/api/v1/jobs/{job_id}/results"), ("rd", f"/api/v1/jobs/{job_id}/rd"),
            ("bd-rate", f"/api/v1/jobs/{job_id}/bd-rate?anchor=jpeg&metric=psnr"),
            ("leaderboard", f"/api/v1/leaderboard?image_set_id={self.rng.choice(self.sets)}&metric=psnr&anchor=jpeg")])
        self.call(kind, "GET", url)


class HealthWatch(threading.Thread):
    """Polls /health; the fault windows end at the first 200 after their fault."""

    def __init__(self, base_url: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base_url, self.stop_event = base_url, stop
        self.samples: list[tuple[float, int | None]] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            while not self.stop_event.is_set():
                moment = time.monotonic()
                try:
                    status = client.get("/api/v1/health").status_code
                except httpx.HTTPError:
                    status = None
                self.samples.append((moment, status))
                time.sleep(0.25)

    def healthy_after(self, moment: float) -> float:
        for sampled, status in self.samples:
            if sampled > moment and status == 200:
                return sampled
        return float("inf")


class ProgressWatch(threading.Thread):
    """Job progress once a second, to measure how long jobs waited after a fault."""

    def __init__(self, base_url: str, token: str, ledger: Ledger, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base_url, self.token, self.ledger, self.stop_event = base_url, token, ledger, stop
        self.history: dict[int, list[tuple[float, int, str]]] = defaultdict(list)

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30, headers={"Authorization": f"Bearer {self.token}"}) as c:
            while not self.stop_event.is_set():
                with self.ledger.lock:
                    jobs = list(self.ledger.jobs)
                for job_id in jobs:
                    if self.history[job_id] and self.history[job_id][-1][2] not in ("queued", "running"):
                        continue
                    try:
                        job = c.get(f"/api/v1/jobs/{job_id}").json()
                        self.history[job_id].append((time.monotonic(), job["progress"]["done"], job["status"]))
                    except (httpx.HTTPError, ValueError, KeyError):
                        pass
                time.sleep(1.0)

    def longest_wait_after(self, faults: list[float]) -> float:
        """Per fault, per job active then: seconds until its progress moved or it finished; the longest."""
        longest = 0.0
        for moment in faults:
            for samples in self.history.values():
                before = [s for s in samples if s[0] <= moment]
                after = [s for s in samples if s[0] > moment]
                if not before or before[-1][2] not in ("queued", "running"):
                    continue
                moved = next((s[0] for s in after if s[1] > before[-1][1] or s[2] not in ("queued", "running")),
                             None)
                if moved is not None:
                    longest = max(longest, moved - moment)
        return longest


def fault_schedule(rng: random.Random, seconds: float, every: tuple[float, float], kinds: tuple[str, ...]):
    moment, schedule = 0.0, []
    while True:
        moment += rng.uniform(*every)
        if moment >= seconds - 20:  # the last fault leaves time to recover before the clients stop
            return schedule
        schedule.append((moment, rng.choice(kinds)))


def quantile(values: list[float], q: float) -> float:
    return float(np.quantile(values, q)) if values else float("nan")


@dataclass
class PhaseResult:
    ok: bool
    lines: list[str]


def run_phase(label: str, env: dict[str, str], data_dir: Path, seconds: float, clients: int, seed: int,
              every: tuple[float, float], kinds: tuple[str, ...], redis: RedisProcess | None = None,
              postgres=None, schedule: list[tuple[float, str]] | None = None,
              codec_names: tuple[str, ...] = ("jpeg", "webp", "licbench-multirate")) -> PhaseResult:
    rng = random.Random(seed)
    service = Service(env, data_dir)
    print(f"\n== {label}: {seconds / 60:g} min, {clients} clients, seed {seed}", flush=True)
    try:
        return _phase(label, service, seconds, clients, seed, rng, every, kinds, redis, postgres, schedule,
                      codec_names)
    finally:
        service.stop()


def _phase(label, service, seconds, clients, seed, rng, every, kinds, redis, postgres, schedule,
           codec_names) -> PhaseResult:
    token = service.start()
    stop, watch_stop = threading.Event(), threading.Event()
    ledger = Ledger()
    base_url = f"http://127.0.0.1:{service.port}"
    with httpx.Client(base_url=base_url, timeout=60) as http:
        catalogue = {c["name"]: c for c in http.get("/api/v1/codecs").json()}
    codecs = {name: [30.0, 70.0] for name in ("jpeg", "webp") if name in codec_names}
    multirate = catalogue.get("licbench-multirate")
    if "licbench-multirate" not in codec_names:
        pass
    elif multirate and multirate.get("available"):
        codecs["licbench-multirate"] = [float(p) for p in (multirate.get("rate_points") or [1, 3])[:2]]
    else:
        print(f"  licbench-multirate unavailable: {multirate and multirate.get('reason')}")
    health = HealthWatch(base_url, watch_stop)
    progress = ProgressWatch(base_url, token, ledger, watch_stop)
    workers = [Client(i, base_url, token, ledger, stop, codecs, seed) for i in range(clients)]
    health.start()
    progress.start()
    for worker in workers:
        worker.start()
    started = time.monotonic()
    fault_times: list[float] = []
    repaired: list[float] = []
    if schedule is None:
        schedule = fault_schedule(rng, seconds, every, kinds)
    for offset, kind in schedule:
        while time.monotonic() - started < offset:
            time.sleep(0.2)
        moment = time.monotonic()
        if kind == "pool":
            what = service.kill_pool_process()
        elif kind == "worker":
            what = service.kill_worker()
        elif kind == "server":
            what = service.kill_server()
        elif kind == "redis":
            redis.kill()
            time.sleep(2)
            redis.start()
            what = "redis killed, started again after 2 s"
        else:
            postgres.stop()
            time.sleep(2)
            postgres.start()
            what = "postgres stopped (fast), started again after 2 s"
        fault_times.append(moment)
        repaired.append(time.monotonic())  # after the restart returned: /health may answer 200 before a kill lands
        print(f"  {offset:6.0f} s  fault {kind}: {what}", flush=True)
    while time.monotonic() - started < seconds:
        time.sleep(0.2)
    stop.set()
    for worker in workers:
        worker.join(timeout=180)

    # Drain: every job finishes (succeeded, or failed with a reason)
    deadline = time.monotonic() + 600
    with httpx.Client(base_url=base_url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as http:
        finals: dict[int, dict] = {}
        while time.monotonic() < deadline:
            for job_id in ledger.jobs:
                if job_id not in finals:
                    try:
                        job = http.get(f"/api/v1/jobs/{job_id}").json()
                    except (httpx.HTTPError, ValueError):
                        continue
                    if isinstance(job, dict) and "status" in job and job["status"] not in ("queued", "running"):
                        finals[job_id] = job
            if len(finals) == len(ledger.jobs):
                break
            time.sleep(2)
        watch_stop.set()
        lost = duplicated = 0
        for job_id, job in finals.items():
            answer = http.get(f"/api/v1/jobs/{job_id}/results", params={"limit": 1000})
            assert answer.status_code == 200, f"results of job {job_id}: {answer.status_code} {answer.text[:200]}"
            results = answer.json()
            keys = Counter((r["image_id"], r["codec"], r["rate_point"]) for r in results)
            duplicated += sum(n - 1 for n in keys.values() if n > 1)
            lost += job["progress"]["total"] - job["progress"]["done"]
        uploads_lost = sum(http.get(f"/api/v1/image-sets/{s}").status_code != 200 for s in ledger.image_sets)
        answers_lost = 0
        for study_id, trials in ledger.answers.items():
            page = http.get(f"/api/v1/studies/{study_id}/responses", params={"format": "csv"})
            assert page.status_code == 200, f"responses of study {study_id}: {page.status_code}"
            ids = {int(row["trial_id"]) for row in csv.DictReader(io.StringIO(page.text)) if row.get("trial_id")}
            answers_lost += len(trials - ids)
    verified = service.cli("verify", "--min-age", "0")
    missing = sum(line.startswith(("missing:", "changed:")) for line in verified.stdout.splitlines())
    service.stop()

    windows = [(t, health.healthy_after(r)) for t, r in zip(fault_times, repaired)]
    in_window = lambda r: any(a <= r.started <= b for a, b in windows)  # noqa: E731
    undocumented = [r for r in ledger.records if r.status is not None and r.status >= 500
                    and not (r.status == 503 and in_window(r))]
    documented = sum(1 for r in ledger.records if r.status == 503 and in_window(r))
    unanswered = sum(1 for r in ledger.records if r.status is None)
    statuses = Counter(j["status"] for j in finals.values())
    failed_reasons = Counter((j.get("error") or "no reason given")[:80] for j in finals.values() if j["status"] == "failed")
    lines = [
        f"  jobs: {len(ledger.jobs)} submitted, {statuses.get('succeeded', 0)} succeeded, "
        f"{statuses.get('failed', 0)} failed with a reason, {statuses.get('cancelled', 0)} cancelled, "
        f"{len(ledger.jobs) - len(finals)} unfinished",
        *[f"    failed: {n} x {reason}" for reason, n in failed_reasons.items()],
        f"  results lost: {lost + missing} (rate points without result or failure: {lost}; files missing or "
        f"changed per licbench verify: {missing})   duplicated: {duplicated}",
        f"  uploads lost: {uploads_lost} of {len(ledger.image_sets)}   study answers lost: {answers_lost} of "
        f"{sum(len(t) for t in ledger.answers.values())}",
        f"  5xx: {len(undocumented)} undocumented ({dict(Counter((r.kind, r.status) for r in undocumented))}), {documented} documented "
        f"503 inside fault windows; {unanswered} requests unanswered (server down)",
        f"  fault windows (s until /health 200): {', '.join(f'{b - a:.1f}' for a, b in windows) or 'none'}",
        f"  longest a job waited for progress after a fault: {progress.longest_wait_after(fault_times):.1f} s",
        "  latency outside fault windows (p50 / p99 ms, n):",
    ]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for record in ledger.records:
        if record.status is not None and record.status < 500 and not in_window(record):
            by_kind[record.kind].append(record.seconds)
    for kind, values in sorted(by_kind.items()):
        lines.append(f"    {kind:14s} {quantile(values, 0.5) * 1000:7.0f} {quantile(values, 0.99) * 1000:7.0f}  {len(values)}")
    for line in lines:
        print(line, flush=True)
    ok = (lost + missing == 0 and duplicated == 0 and not undocumented and uploads_lost == 0 and answers_lost == 0
          and len(finals) == len(ledger.jobs))
    return PhaseResult(ok, lines)


@contextmanager
def redis_on(workdir: Path):
    redis = RedisProcess(workdir)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def soak_env(**extra: str) -> dict[str, str]:
    """The environment of a soak service: short sweep and lease times, so lost work is found in seconds."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL")}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", WORKER_CONCURRENCY="2",
               TASK_STALE_S="20", TASK_REDELIVERY_S="20", SWEEP_INTERVAL_S="5", WORKER_HEARTBEAT_SECONDS="2",
               EMBEDDED_BROKER_LEASE_S="10", BROKER_VISIBILITY_TIMEOUT_S="60", WORKER_RESTART_MAX_DELAY_S="4",
               UPLOADS_PER_MINUTE="0", STUDY_BOOTSTRAP="20", PORT=str(free_port()))
    env.update(extra)
    return env


def soak(minutes: float, seed: int, clients: int, phases: str, every: tuple[float, float], workdir: Path) -> bool:
    ok = True
    base = soak_env()
    if "postgres" in phases:
        with ExitStack() as stack:
            postgres = stack.enter_context(restartable_postgres())
            redis = stack.enter_context(redis_on(workdir / "redis"))
            data_dir = workdir / "postgres"
            data_dir.mkdir(parents=True)
            env = dict(base, DATABASE_URL=postgres.url, BROKER_URL=redis.url, DATA_DIR=str(data_dir),
                       PORT=str(free_port()))
            ok &= run_phase("PostgreSQL + Redis", env, data_dir, minutes * 60, clients, seed, every,
                            PROCESS_FAULTS + SERVER_FAULTS, redis=redis, postgres=postgres).ok
    if "embedded" in phases:
        data_dir = workdir / "embedded"
        data_dir.mkdir(parents=True)
        env = dict(base, DATA_DIR=str(data_dir), PORT=str(free_port()))
        ok &= run_phase("embedded: SQLite database and broker", env, data_dir, minutes * 60, clients, seed + 1, every,
                        PROCESS_FAULTS).ok
    print(f"\nsoak {'PASSED' if ok else 'FAILED'}: 0 lost, 0 duplicated, no undocumented 5xx" if ok else
          "\nsoak FAILED: see the counts above")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--seed", type=int, default=None, help="fault times and kinds (printed; random if absent)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--phases", default="postgres,embedded")
    parser.add_argument("--fault-every", default="120,240", help="seconds between faults: MIN,MAX")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    every = tuple(float(x) for x in args.fault_every.split(","))
    print(f"soak seed {seed} (rerun the same fault times with --seed {seed})")
    with tempfile.TemporaryDirectory(prefix="licbench-soak-") as workdir:
        return 0 if soak(args.minutes, seed, args.clients, args.phases, every, Path(workdir)) else 1


if __name__ == "__main__":
    sys.exit(main())
