"""The chaos soak (issue 32): clients that upload, run jobs, answer study trials and read results while faults hit
the processes of one `licbench run`; then the ledger of what the clients were told is checked against the
database.

Definitions the soak checks (``benchmarks/soak.py`` prints them; ``tests/faults/test_soak.py`` asserts them):

- **job finished**: every job the API lists ends ``succeeded``, or ``failed`` with a reason (``error``), within
  the drain time after the clients stop.
- **result lost**: a key (job, image, codec, rate point) of a job the API accepted (202) whose task did not fail
  with a reason, but that has no result row at the end.
- **result duplicated**: a result row beyond the first for one key, counted in the database itself (its unique
  key ``uq_result_task`` should make this 0) and in the results the API returns.
- **study answer lost**: a trial whose answer the API confirmed (201, or 409 "already answered" on a retry) but
  that ``GET /studies/{id}/responses`` does not list.
- **undocumented 5xx**: any 5xx answer except a 503 from a request that overlapped a fault window; a window
  starts at the fault and ends when ``/api/v1/health`` answers 200 again.
- **wait after a fault**: for each job running at a fault, the seconds until its ``progress.done`` grew again (or
  it finished); the soak reports the longest.

Every loop is bounded in time; all traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import psutil
from sqlalchemy import create_engine, text

from tests.support.faults import FaultStack, RedisProcess, kill, wait_until
from tests.support.images import png_bytes, random_photo
from tests.support.servers import wait_for_port

PROCESS_FAULTS = ("pool", "worker", "server")
SERVER_FAULTS = ("redis", "postgres")
CLASSICAL_RATE_POINTS = [25.0, 75.0]


# -- `licbench run` under the soak ---------------------------------------------------------------------------
@dataclass
class SupervisedRun:
    """`licbench run --no-demo` on a prepared :class:`FaultStack` (its env, data dir and port): the web server and
    the worker are its children, restarted by it when killed."""

    stack: FaultStack
    concurrency: int = 2
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 300) -> None:
        self.stack.env.update(PORT=str(self.stack.port), HOST="127.0.0.1", WORKER_CONCURRENCY=str(self.concurrency))
        self.process = self.stack._spawn([sys.executable, "-m", "app.cli", "run", "--no-demo"], "run.log")
        wait_for_port(self.stack.port, timeout=timeout, process=self.process)
        wait_until(
            lambda: "ready." in self.stack.log("run.log") or self.process.poll() is not None,
            timeout,
            0.2,
            "worker ready",
        )
        assert self.process.poll() is None, self.stack.log("run.log")[-3000:]

    def child(self, marker: str) -> psutil.Process | None:
        try:
            children = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return None
        for child in children:
            try:
                if child.status() != psutil.STATUS_ZOMBIE and marker in " ".join(child.cmdline()):
                    return child
            except psutil.Error:
                continue
        return None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        children = psutil.Process(self.process.pid).children(recursive=True)
        self.process.terminate()  # `licbench run` stops its server and worker
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            kill(self.process)
        _, alive = psutil.wait_procs(children, timeout=30)
        for process in alive:
            kill(process)


@dataclass
class Faults:
    """The faults the soak can cause on one worker (and web server): SIGKILL of a pool process always; SIGKILL of
    the worker and of the server only where `licbench run` supervises them (``run``); a Redis and a PostgreSQL
    restart only where the soak started those servers."""

    rng: random.Random
    run: SupervisedRun | None = None
    stack: FaultStack | None = None  # a worker started by the test itself: pool kills only
    redis: RedisProcess | None = None
    postgres: object | None = None  # tests.support.restartable_postgres.RestartablePostgres

    def available(self) -> tuple[str, ...]:
        kinds = PROCESS_FAULTS if self.run is not None else ("pool",)
        return kinds + tuple(
            name for name, server in (("redis", self.redis), ("postgres", self.postgres)) if server is not None
        )

    def _worker(self) -> psutil.Process | None:
        if self.run is not None:
            return self.run.child("celery")
        try:
            return psutil.Process(self.stack.worker.pid)
        except psutil.NoSuchProcess:
            return None

    def cause(self, name: str) -> str:
        """Cause fault ``name`` now; returns what was done (for the log)."""
        if name == "pool":
            worker = self._worker()
            pool = worker.children() if worker else []
            if not pool:
                return "no worker pool process to kill"
            busy = [p for p in pool if _status(p) == psutil.STATUS_RUNNING]  # prefer one that runs a task now
            victim = self.rng.choice(busy or pool)
            kill(victim)
            return f"SIGKILL worker pool process {victim.pid}"
        if name == "worker":
            worker = self._worker()
            if worker is None:
                return "no worker to kill"
            pool = worker.children(recursive=True)
            kill(worker)
            for child in pool:  # orphans would go on holding their tasks
                kill(child)
            return f"SIGKILL worker {worker.pid} and its {len(pool)} pool processes"
        if name == "server":
            server = self.run.child("uvicorn")
            if server is None:
                return "no server to kill"
            kill(server)
            return f"SIGKILL API server {server.pid}"
        if name == "redis":
            self.redis.shutdown()
            time.sleep(1.0)
            self.redis.start()
            return "Redis restarted (SHUTDOWN, start on the same port and append-only file)"
        if name == "postgres":
            self.postgres.stop()
            time.sleep(1.0)
            self.postgres.start()
            return "PostgreSQL restarted (pg_ctl stop -m fast, start)"
        raise ValueError(name)


def _status(process: psutil.Process) -> str:
    try:
        return process.status()
    except psutil.Error:
        return ""


def fault_schedule(
    rng: random.Random,
    seconds: float,
    interval: tuple[float, float],
    kinds: tuple[str, ...],
    start_after: float | None = None,
) -> list[tuple[float, str]]:
    """(offset s, fault) pairs: the gaps drawn uniformly from ``interval``; the kinds taken in a shuffled cycle so
    each one comes before any repeats. The last fault leaves at least ``interval[0] / 2`` s before the end."""
    order: list[str] = []
    schedule, at = [], start_after if start_after is not None else rng.uniform(*interval)
    while at < seconds - interval[0] / 2:
        if not order:
            order = list(kinds)
            rng.shuffle(order)
        schedule.append((at, order.pop()))
        at += rng.uniform(*interval)
    return schedule


# -- what the clients saw ------------------------------------------------------------------------------------
@dataclass
class Call:
    endpoint: str
    start: float
    end: float
    status: int | None  # None: no answer (connection refused or reset)


@dataclass
class FaultWindow:
    kind: str
    what: str
    start: float
    end: float | None = None


@dataclass
class Ledger:
    """Everything the clients were told, shared by the client threads (one lock)."""

    calls: list[Call] = field(default_factory=list)
    image_sets: list[int] = field(default_factory=list)
    jobs: list[int] = field(default_factory=list)
    answers: set[tuple[int, int]] = field(default_factory=set)  # (study, trial) confirmed stored
    windows: list[FaultWindow] = field(default_factory=list)
    progress: dict[int, list[tuple[float, str, int]]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, value) -> None:
        with self.lock:
            target = getattr(self, name)
            target.add(value) if isinstance(target, set) else target.append(value)


class Client:
    """One soak client: an httpx client whose every call is recorded in the ledger."""

    def __init__(self, base_url: str, token: str, ledger: Ledger, rng: random.Random) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60, headers={"Authorization": f"Bearer {token}"})
        self.ledger, self.rng = ledger, rng

    def call(self, endpoint: str, method: str, url: str, **kwargs) -> httpx.Response | None:
        start = time.monotonic()
        try:
            answer = self.http.request(method, url, **kwargs)
        except httpx.TransportError:
            answer = None
            time.sleep(0.5)  # the server is down: a client waits a moment, as a browser would, not a busy loop
        self.ledger.add("calls", Call(endpoint, start, time.monotonic(), answer.status_code if answer else None))
        return answer


@dataclass
class Workload:
    """The fixed parts every client draws from: the codecs and rate points, the study."""

    multirate_points: list[float]
    study: dict
    image_size: tuple[int, int] = (48, 64)
    think_s: tuple[float, float] = (0.05, 0.3)
    max_calls_per_client: int = 100_000
    max_unfinished_jobs: int = 8  # a client submits a job only while fewer accepted ones wait or run: a steady
    # load the worker keeps up with, not a backlog that grows for as long as the soak runs


def _upload(client: Client, workload: Workload) -> None:
    seed = client.rng.randrange(10**6)
    files = [
        ("files", (f"soak{i}.png", png_bytes(random_photo(*workload.image_size, seed=seed + i)), "image/png"))
        for i in range(2)
    ]
    answer = client.call(
        "POST /image-sets",
        "POST",
        "/api/v1/image-sets",
        files=files,
        data={"name": f"soak-{seed}", "visibility": "public"},
    )
    if answer is not None and answer.status_code == 201:
        client.ledger.add("image_sets", answer.json()["id"])


def _submit_job(client: Client, workload: Workload) -> None:
    with client.ledger.lock:
        sets = list(client.ledger.image_sets)
        progress = client.ledger.progress
        unfinished = sum(
            1 for j in client.ledger.jobs if not progress.get(j) or progress[j][-1][1] in ("queued", "running")
        )
    if not sets:
        return _upload(client, workload)
    if unfinished >= workload.max_unfinished_jobs:
        return _read(client, workload)
    codecs = [
        {"name": "jpeg", "rate_points": CLASSICAL_RATE_POINTS},
        {"name": "webp", "rate_points": CLASSICAL_RATE_POINTS},
    ]
    if workload.multirate_points and client.rng.random() < 0.5:
        codecs.append({"name": "licbench-multirate", "rate_points": [client.rng.choice(workload.multirate_points)]})
    body = {"image_set_id": client.rng.choice(sets), "metrics": ["psnr"], "codecs": codecs}
    answer = client.call("POST /jobs", "POST", "/api/v1/jobs", json=body)
    if answer is not None and answer.status_code == 202:
        client.ledger.add("jobs", answer.json()["id"])


def _take_study_session(client: Client, workload: Workload) -> None:
    study = workload.study
    base = f"/api/v1/studies/{study['id']}/sessions"
    created = client.call(
        "POST /studies/{id}/sessions",
        "POST",
        base,
        json={
            "token": study["token"],
            "participant": f"soak-{client.rng.randrange(10**6)}",
            "display": {"width": 1600, "height": 1000, "device_pixel_ratio": 1.0},
        },
    )
    if created is None or created.status_code != 201:
        return
    session = created.json()["id"]
    for _ in range(64):  # a session is a few trials; bounded anyway
        trial = client.call("GET /studies/{id}/sessions/{s}/next", "GET", f"{base}/{session}/next")
        if trial is None or trial.status_code != 200:
            return
        trial = trial.json()
        body = {"trial_id": trial["trial_id"], "choice": client.rng.choice("ab"), "response_ms": 1000}
        for _ in range(3):  # an answer without reply is sent again: stored once or answered 409
            stored = client.call(
                "POST /studies/{id}/sessions/{s}/responses", "POST", f"{base}/{session}/responses", json=body
            )
            if stored is not None and stored.status_code in (201, 409):
                client.ledger.add("answers", (study["id"], trial["trial_id"]))
                break
            if stored is not None and stored.status_code < 500:
                return
            time.sleep(1.0)
        else:
            return


def _read(client: Client, workload: Workload) -> None:
    with client.ledger.lock:
        jobs = list(client.ledger.jobs)
    if client.rng.random() < 0.25 or not jobs:
        client.call("GET /leaderboard", "GET", "/api/v1/leaderboard")
        return
    job = client.rng.choice(jobs)
    endpoint = client.rng.choice(("results", "rd", "bd-rate"))
    client.call(f"GET /jobs/{{id}}/{endpoint}", "GET", f"/api/v1/jobs/{job}/{endpoint}")


ACTIONS: list[tuple[Callable[[Client, Workload], None], float]] = [
    (_upload, 0.15),
    (_submit_job, 0.2),
    (_take_study_session, 0.15),
    (_read, 0.5),
]


def client_loop(client: Client, workload: Workload, deadline: float) -> None:
    actions, weights = zip(*ACTIONS)
    calls = 0
    while time.monotonic() < deadline and calls < workload.max_calls_per_client:
        client.rng.choices(actions, weights)[0](client, workload)
        calls += 1
        time.sleep(client.rng.uniform(*workload.think_s))


def watch_jobs(database_url: str, ledger: Ledger, stop: threading.Event, interval: float = 1.0) -> None:
    """Record each job's status and ``done`` count about every ``interval`` s, read from the database itself so
    the record goes on while the API server is down (for the waits after faults)."""
    engine = create_engine(database_url, pool_pre_ping=True)
    try:
        while not stop.wait(interval):
            try:
                with engine.connect() as connection:
                    rows = connection.execute(text("SELECT id, status, done FROM jobs")).all()
            except Exception:  # the database is restarting: no sample this time
                continue
            now = time.monotonic()
            with ledger.lock:
                for job_id, status, done in rows:
                    ledger.progress[job_id].append((now, str(status), int(done or 0)))
    finally:
        engine.dispose()


def health_ok(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/api/v1/health", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def run_faults(
    faults: Faults,
    schedule: list[tuple[float, str]],
    started: float,
    deadline: float,
    ledger: Ledger,
    base_url: str,
    log: Callable[[str], None],
    window_timeout: float = 300,
) -> None:
    """Cause each scheduled fault at its time; a window lasts until /health answers 200 again (bounded)."""
    for offset, kind in schedule:
        wait = started + offset - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        if time.monotonic() >= deadline:
            return
        window = FaultWindow(kind, "", time.monotonic())
        window.what = faults.cause(kind)
        time.sleep(0.5)  # a killed server still answers for a moment through connections in flight
        try:
            wait_until(lambda: health_ok(base_url), window_timeout, 0.2, "/health 200")
        except TimeoutError:
            log(f"  /health not 200 within {window_timeout:g} s after {kind}")
        window.end = time.monotonic()
        ledger.add("windows", window)
        log(
            f"  t={window.start - started:6.1f} s  {kind:8s} {window.what}; /health 200 again after "
            f"{window.end - window.start:.1f} s"
        )


# -- the checks at the end -----------------------------------------------------------------------------------
@dataclass
class Report:
    jobs: int = 0
    jobs_accepted: int = 0
    succeeded: int = 0
    failed_with_reason: int = 0
    failure_reasons: Counter = field(default_factory=Counter)  # the first 80 characters of each failed job's error
    unfinished: list[int] = field(default_factory=list)
    failed_without_reason: list[int] = field(default_factory=list)
    accepted_missing: list[int] = field(default_factory=list)
    results: int = 0
    results_lost: int = 0
    lost_examples: list[tuple] = field(default_factory=list)
    duplicated_db: int = 0
    duplicated_api: int = 0
    answers_confirmed: int = 0
    answers_lost: int = 0
    calls: int = 0
    no_answer: int = 0
    no_answer_outside: int = 0
    documented_503: int = 0
    undocumented_5xx: list[tuple[str, int, float]] = field(default_factory=list)
    latency: dict[str, tuple[int, float, float]] = field(default_factory=dict)  # endpoint -> (n, p50 ms, p99 ms)
    longest_wait_after_fault: float | None = None
    longest_wait_job: tuple[int, str] | None = None
    faults: list[FaultWindow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.unfinished
            or self.failed_without_reason
            or self.accepted_missing
            or self.results_lost
            or self.duplicated_db
            or self.duplicated_api
            or self.answers_lost
            or self.undocumented_5xx
        )


def _overlaps(call: Call, windows: list[FaultWindow]) -> bool:
    return any(call.start <= w.end and call.end >= w.start for w in windows)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def all_rows(http: httpx.Client, url: str, page: int = 10_000) -> list[dict]:
    """Every row of a paginated list endpoint (``limit``/``offset``; the default page is 1,000 rows)."""
    rows: list[dict] = []
    while True:
        batch = http.get(url, params={"limit": page, "offset": len(rows)}).raise_for_status().json()
        rows += batch
        if len(batch) < page:
            return rows


def wait_for_jobs(http: httpx.Client, timeout: float) -> list[dict]:
    """Poll until no job is queued or running (or ``timeout``); the jobs listed last."""
    deadline = time.monotonic() + timeout
    jobs: list[dict] = []
    while time.monotonic() < deadline:
        try:
            jobs = all_rows(http, "/api/v1/jobs")
            if all(j["status"] not in ("queued", "running") for j in jobs):
                return jobs
        except httpx.HTTPError:  # no answer, or a 503 while something restarts
            pass
        time.sleep(1.0)
    return jobs


def check(http: httpx.Client, database_url: str, ledger: Ledger, jobs: list[dict]) -> Report:
    """Compare what the clients were told (``ledger``) with what the API and the database hold now."""
    report = Report(jobs=len(jobs), jobs_accepted=len(ledger.jobs), faults=list(ledger.windows))
    listed = {j["id"]: j for j in jobs}
    report.accepted_missing = [j for j in ledger.jobs if j not in listed]
    images: dict[int, list[int]] = {}
    for job in jobs:
        if job["status"] in ("queued", "running"):
            report.unfinished.append(job["id"])
            continue
        if job["status"] == "succeeded":
            report.succeeded += 1
        elif job.get("error"):
            report.failed_with_reason += 1
            report.failure_reasons[job["error"][:80]] += 1
        else:
            report.failed_without_reason.append(job["id"])
        if job["image_set_id"] not in images:
            images[job["image_set_id"]] = [
                i["id"]
                for i in http.get(f"/api/v1/image-sets/{job['image_set_id']}").raise_for_status().json()["images"]
            ]
        results = all_rows(http, f"/api/v1/jobs/{job['id']}/results")
        report.results += len(results)
        seen = Counter((r["image_id"], r["codec"], float(r["rate_point"])) for r in results)
        report.duplicated_api += sum(n - 1 for n in seen.values())
        failed_tasks = {
            (t["image_id"], t["codec"])
            for t in http.get(f"/api/v1/jobs/{job['id']}/tasks").raise_for_status().json()
            if t["state"] == "failed" and t.get("error")
        }
        if job["id"] not in ledger.jobs and job["status"] == "failed":
            continue  # a job whose 202 never reached a client, failed with its reason: nothing was promised
        for image in images[job["image_set_id"]]:
            for codec in job["codecs"]:
                if (image, codec["name"]) in failed_tasks:
                    continue
                for point in codec["rate_points"]:
                    if (image, codec["name"], float(point)) not in seen:
                        report.results_lost += 1
                        if len(report.lost_examples) < 5:
                            report.lost_examples.append((job["id"], image, codec["name"], point, job["status"]))
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            report.duplicated_db = int(
                connection.execute(
                    text(
                        "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM results "
                        "GROUP BY job_id, image_id, codec, rate_point HAVING COUNT(*) > 1) AS d"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()
    stored: set[tuple[int, int]] = set()
    for study in {s for s, _ in ledger.answers}:
        rows = all_rows(http, f"/api/v1/studies/{study}/responses")
        stored |= {(study, r["trial_id"]) for r in rows}
    report.answers_confirmed = len(ledger.answers)
    report.answers_lost = len(ledger.answers - stored)

    windows = [w for w in ledger.windows if w.end is not None]
    started = min((c.start for c in ledger.calls), default=0.0)
    by_endpoint: dict[str, list[float]] = defaultdict(list)
    for call in ledger.calls:
        report.calls += 1
        inside = _overlaps(call, windows)
        if call.status is None:
            report.no_answer += 1
            report.no_answer_outside += not inside
        elif call.status == 503 and inside:
            report.documented_503 += 1
        elif call.status >= 500:
            report.undocumented_5xx.append((call.endpoint, call.status, round(call.start - started, 1)))
        elif not inside:
            by_endpoint[call.endpoint].append((call.end - call.start) * 1000)
    report.latency = {e: (len(v), statistics.median(v), quantile(v, 0.99)) for e, v in sorted(by_endpoint.items())}

    for window in windows:
        for job_id, samples in ledger.progress.items():
            before = [s for s in samples if s[0] <= window.start]
            if not before or before[-1][1] != "running":
                continue
            done_then = before[-1][2]
            after = next(
                (s for s in samples if s[0] > window.start and (s[2] > done_then or s[1] not in ("queued", "running"))),
                None,
            )
            waited = (after[0] if after else time.monotonic()) - window.start
            if report.longest_wait_after_fault is None or waited > report.longest_wait_after_fault:
                report.longest_wait_after_fault, report.longest_wait_job = waited, (job_id, window.kind)
    return report


def format_report(report: Report, title: str) -> str:
    lines = [
        f"== {title}",
        f"jobs: {report.jobs} listed ({report.jobs_accepted} accepted by a 202 to a client): "
        f"{report.succeeded} succeeded, {report.failed_with_reason} failed with a reason, "
        f"{len(report.unfinished)} unfinished {report.unfinished[:10]}, "
        f"{len(report.failed_without_reason)} failed without a reason; accepted but not listed: "
        f"{len(report.accepted_missing)}",
        f"every job finished: {'yes' if not (report.unfinished or report.failed_without_reason) else 'NO'}"
        + "".join(f"\n  failed x{n}: {reason}" for reason, n in report.failure_reasons.most_common(5)),
        f"result rows: {report.results}; results lost: {report.results_lost} (expected 0) {report.lost_examples or ''}",
        f"results duplicated: {report.duplicated_db} in the database, {report.duplicated_api} in API answers "
        f"(expected 0)",
        f"study answers: {report.answers_confirmed} confirmed, lost: {report.answers_lost} (expected 0)",
        f"requests: {report.calls}; documented 503s inside fault windows: {report.documented_503}; "
        f"no answer (connection refused/reset): {report.no_answer} ({report.no_answer_outside} outside windows)",
        f"undocumented 5xx: {len(report.undocumented_5xx)} (expected 0) {report.undocumented_5xx[:10] or ''}",
        "latency outside fault windows (2xx-4xx answers):",
    ]
    for endpoint, (n, p50, p99) in report.latency.items():
        lines.append(f"  {endpoint:42s} n={n:5d}  p50 {p50:8.1f} ms  p99 {p99:8.1f} ms")
    wait = report.longest_wait_after_fault
    lines.append(
        "longest wait of a running job after a fault: "
        + (
            f"{wait:.1f} s (job {report.longest_wait_job[0]}, {report.longest_wait_job[1]})"
            if wait is not None
            else "n/a (no job was running at a fault)"
        )
    )
    return "\n".join(lines)


# -- one phase -----------------------------------------------------------------------------------------------
def prepare_study(stack: FaultStack, log: Callable[[str], None], timeout: float = 300) -> dict:
    """A small finished JPEG job and a pairwise study on it, for the study clients."""
    set_id = stack.upload_photos("soak-study", count=2, size=(48, 64))
    job_id = stack.submit_job(set_id, {"jpeg": [20.0, 50.0, 90.0]}, ["psnr"])
    job = stack.wait_for_job(job_id, timeout)
    assert job["status"] == "succeeded", job
    with stack.client() as http:
        created = http.post(
            "/api/v1/studies",
            json={"name": "soak", "method": "pairwise", "job_id": job_id, "trials_per_session": 6, "crop": 32},
        )
    assert created.status_code == 201, created.text
    log(f"  study {created.json()['id']} on job {job_id} ready")
    return created.json()


def multirate_points(stack: FaultStack) -> list[float]:
    with stack.client() as http:
        for codec in http.get("/api/v1/codecs").raise_for_status().json():
            if codec["name"] == "licbench-multirate" and codec["available"]:
                return [float(p) for p in (codec.get("rate_points") or [])][:3]
    return []


def soak_phase(
    stack: FaultStack,
    faults: Faults,
    database_url: str,
    *,
    seconds: float,
    clients: int,
    schedule: list[tuple[float, str]],
    drain_timeout: float,
    log: Callable[[str], None] = print,
    seed: int = 0,
    think_s: tuple[float, float] = (0.05, 0.3),
    max_unfinished_jobs: int = 8,
) -> Report:
    """Run the clients for ``seconds`` while the faults of ``schedule`` happen, wait for the jobs (at most
    ``drain_timeout`` s), and check. ``stack`` must already run (:class:`SupervisedRun`)."""
    ledger = Ledger()
    workload = Workload(
        multirate_points(stack), prepare_study(stack, log), think_s=think_s, max_unfinished_jobs=max_unfinished_jobs
    )
    log(f"  licbench-multirate rate points used: {workload.multirate_points or 'none (codec unavailable)'}")
    started = time.monotonic()
    deadline = started + seconds
    stop_watch = threading.Event()
    threads = [
        threading.Thread(
            target=client_loop,
            name=f"soak-client-{i}",
            daemon=True,
            args=(Client(stack.base_url, stack.token, ledger, random.Random(seed * 1000 + i)), workload, deadline),
        )
        for i in range(clients)
    ]
    threads.append(
        threading.Thread(
            target=run_faults,
            name="soak-faults",
            daemon=True,
            args=(faults, schedule, started, deadline, ledger, stack.base_url, log),
        )
    )
    watcher = threading.Thread(
        target=watch_jobs, name="soak-watch", daemon=True, args=(database_url, ledger, stop_watch)
    )
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic()) + 360)
    log(
        f"  clients stopped after {time.monotonic() - started:.0f} s; waiting for the jobs (at most "
        f"{drain_timeout:g} s)"
    )
    with stack.client(timeout=120) as http:
        drain_started = time.monotonic()
        jobs = wait_for_jobs(http, drain_timeout)
        log(f"  jobs drained in {time.monotonic() - drain_started:.0f} s")
        stop_watch.set()
        watcher.join(timeout=30)
        return check(http, database_url, ledger, jobs)
