"""Benchmark: licbench's worker pipeline at the hardware limit, against serial loops, from ONE run.

Same images (8 photos, 512x768 by default), same codecs (JPEG + two learned architectures x 4 rate
points), same metrics (PSNR, MS-SSIM), same machine, same run. Measured, in this order:

1. ``ideal``: the same work (encode, decode from the bytes, score with licbench's metrics, the
   reference prepared once per image x codec) as a serial loop on ONE torch thread, divided by the
   worker processes. The service cannot beat it without more cores. Its PNG writing is timed too and
   shown apart (the service also writes every reconstruction PNG and a database row; the ideal does not).
2. the eval_model-style serial loop (CompressAI's ``eval_model``: the model loaded afresh per rate
   point, pytorch_msssim) with torch's default threads, as a user would run it.
3. licbench through the real web server and Celery worker processes on the embedded broker (SQLite
   database, kombu's SQLAlchemy transport), then on Redis + PostgreSQL (started on loopback the way
   the integration tests do; skipped with the reason if their binaries are missing).

Targets printed as ratios: licbench wall time <= 1.1 x ideal on each broker, and the speed-up over the
default-thread serial loop. Service overhead: (wall x worker processes - compute inside tasks) / compute.

The machine may be shared, so the ideal is measured right before AND right after each service run
(order: ideal, default-thread loop, embedded, ideal, Redis + PostgreSQL, ideal) and each service run is
compared with the mean of the two ideals around it; the load average is printed at each step. Right
after each service run the same loop also runs split over the worker count of plain processes started
together (no broker, database or PNG): wall / that is the service's own cost under the same contention,
and the rest of wall / ideal is the processes slowing each other down (shared cores, caches, memory). Where the
wall time goes is read from the job's task table (``GET /jobs/{id}/tasks``: queued/started/finished per
task and the worker process) and its result rows (encode/decode/metrics seconds): compute inside tasks,
the rest of each task (reference preparation, codec load, PNG, database), the wait before each worker's
first task, the gaps between a worker's tasks (broker + claim) and the idle tail after its last task.
At the start a vector probe (small cache-resident matmuls on one thread, alone and then in as many processes as
workers at once) shows how the machine's cores scale on vector code by themselves, without images or memory
traffic: where it reads well above 1x, the cores share execution units or clock and wall / ideal cannot reach 1x.

    python benchmarks/pipeline.py [--workers 2] [--images 8] [--skip-production] [--skip-eval-loop]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.base import CodecContext  # noqa: E402
from models.photos import DEMO_PHOTOS, TRAINING_PHOTOS, load_photo  # noqa: E402
from models.registry import build_codecs  # noqa: E402

TARGET = 1.1  # licbench wall time at most this times the ideal
METRICS = ["psnr", "ms-ssim"]
STARTUP_TIMEOUT_S = 300  # the web server's imports can take minutes on a crowded machine (not timed)
HEIGHT, WIDTH = 512, 768
LEARNED_CANDIDATES = ("tiny-hyperprior", "licbench-multirate")


def photos(count: int = 8) -> dict[str, np.ndarray]:
    """``count`` offline photos (at most 8), centre-cropped to the 2:3 aspect and resized to 512x768."""
    out = {}
    for name in (DEMO_PHOTOS + TRAINING_PHOTOS)[:count]:
        img = Image.fromarray(load_photo(name))
        w, h = img.size
        target = WIDTH / HEIGHT
        if w / h > target:
            new_w = int(h * target)
            img = img.crop(((w - new_w) // 2, 0, (w - new_w) // 2 + new_w, h))
        else:
            new_h = int(w / target)
            img = img.crop((0, (h - new_h) // 2, w, (h - new_h) // 2 + new_h))
        out[name] = np.array(img.resize((WIDTH, HEIGHT), Image.LANCZOS))
    return out


def selection(codecs) -> list[tuple[str, list[float]]]:
    chosen = [("jpeg", [20.0, 40.0, 60.0, 80.0])]
    for name in LEARNED_CANDIDATES:
        codec = codecs.get(name)
        if codec is None or not codec.availability().available:
            raise SystemExit(f"benchmark needs codec {name!r}: {codec.availability().reason if codec else 'missing'}")
        points = list(codec.rate.points)
        idx = np.linspace(0, len(points) - 1, 4).round().astype(int)
        chosen.append((name, [float(points[i]) for i in idx]))
    return chosen


def serial_baseline(images, chosen) -> float:
    """eval_model style: per codec and rate point, load the model, then loop over images; metrics each time."""
    from pytorch_msssim import ms_ssim

    start = time.perf_counter()
    for name, points in chosen:
        for rate_point in points:
            codec = build_codecs(CodecContext())[name]  # a new context, an empty network cache:
            # eval_model loads each checkpoint afresh
            for image in images.values():
                data = codec.encode(image, rate_point)
                recon = codec.decode(data)
                x = torch.from_numpy(image).permute(2, 0, 1)[None].float()
                y = torch.from_numpy(recon).permute(2, 0, 1)[None].float()
                mse = torch.mean((x - y) ** 2).item()
                _ = 10 * np.log10(255**2 / max(mse, 1e-10))
                _ = ms_ssim(x, y, data_range=255).item()
    return time.perf_counter() - start


def ideal_serial(images, chosen) -> tuple[float, float, float]:
    """The service's work as a plain serial loop (call it on one torch thread): per image and codec, the
    reference prepared once, then per rate point encode, decode from the bytes and score. Returns its
    wall time, apart the time PNG-encoding the reconstructions would take (as the service stores them), and
    the encode + decode + scoring seconds alone (what a result row records as compute)."""
    from engine.benchmark import png_bytes
    from metrics.registry import build_metrics
    from metrics.scoring import prepare_reference, score_prepared
    from models.measure import measure

    codecs = build_codecs(CodecContext())  # one network cache, as a worker process has
    metrics = list(build_metrics(names=METRICS).values())
    png_seconds = compute = 0.0
    start = time.perf_counter()
    for image in images.values():
        for name, points in chosen:
            prepared = prepare_reference(image, metrics)
            for rate_point in points:
                m = measure(codecs[name], image, rate_point)
                scoring_started = time.perf_counter()
                score_prepared(prepared, [m.reconstruction])
                png_started = time.perf_counter()
                compute += m.encode_seconds + m.decode_seconds + png_started - scoring_started
                png_bytes(m.reconstruction)
                png_seconds += time.perf_counter() - png_started
    return time.perf_counter() - start - png_seconds, png_seconds, compute


def measure_ideal(images, chosen, workers: int, label: str) -> tuple[float, float]:
    """One single-thread serial loop; prints it and returns (its time / workers, its compute seconds)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single, png, compute = ideal_serial(images, chosen)
    finally:
        torch.set_num_threads(threads)
    print(
        f"serial loop, same work, 1 torch thread ({label}): {single:7.1f} s (compute {compute:.1f} s; + {png:.1f} s "
        f"if it PNG-encoded the reconstructions too) -> / {workers} workers = {single / workers:.1f} s; "
        f"load {_load()}",
        flush=True,
    )
    return single / workers, compute


def _ideal_part(part: dict, chosen, barrier) -> tuple[float, float]:
    """One process of :func:`parallel_ideal`: imports done, then wait for the others, then the loop."""
    torch.set_num_threads(1)
    import engine.benchmark  # noqa: F401  (imports are not compute)
    import metrics.scoring  # noqa: F401

    barrier.wait()
    started = time.time()
    ideal_serial(part, chosen)
    return started, time.time()


def parallel_ideal(images, chosen, workers: int) -> float:
    """The ideal's serial loop split over ``workers`` plain processes (one torch thread each, images dealt
    round-robin) started together: the same compute at the same time as the service's worker processes,
    with no broker, database or PNG, so it meets the same CPU contention. Returns its wall time."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import Manager, get_context

    items = list(images.items())
    parts = [dict(items[i::workers]) for i in range(workers)]
    with Manager() as manager, ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        barrier = manager.Barrier(workers)
        spans = list(pool.map(_ideal_part, parts, [chosen] * workers, [barrier] * workers))
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    print(f"same loop in {workers} processes at once (no service): {wall:7.1f} s; load {_load()}", flush=True)
    return wall


def _vector_probe(barrier=None) -> float:
    """Seconds for a fixed, cache-resident vector workload on one torch thread (small matmuls: no memory
    traffic), used to see how this machine scales when its cores run vector code at once."""
    torch.set_num_threads(1)
    a = torch.rand(96, 96)
    if barrier is not None:
        barrier.wait()  # every process starts together
    started = time.perf_counter()
    for _ in range(20000):
        a = torch.tanh(a @ a * 0.01)
    return time.perf_counter() - started


def scaling_probe(workers: int) -> float:
    """The same vector workload alone and then in ``workers`` processes at once: their mean time over the
    time alone. 1.0 = the cores scale perfectly; above 1 they share execution units or clock (SMT siblings,
    vector-frequency limits), a slowdown no software above them can remove."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import Manager, get_context

    with Manager() as manager, ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        barrier = manager.Barrier(workers)
        list(pool.map(_vector_probe, [barrier] * workers))  # processes started and warm
        alone = min(pool.submit(_vector_probe).result() for _ in range(2))
        together = float(np.mean(list(pool.map(_vector_probe, [barrier] * workers))))
    ratio = together / alone
    print(
        f"vector probe (cache-resident matmuls, 1 thread): alone {alone:.2f} s, {workers} processes at once "
        f"{together:.2f} s each = {ratio:.2f}x (how this machine's cores scale on vector code); load {_load()}",
        flush=True,
    )
    return ratio


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


@contextmanager
def embedded_stack(workers: int):
    """licbench on its embedded defaults: SQLite database and SQLite broker (kombu sqla)."""
    from tests.support.stack import running_stack

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        with running_stack(
            f"sqlite:///{data_dir / 'db.sqlite'}",
            f"sqla+sqlite:///{data_dir / 'broker.sqlite'}",
            data_dir,
            concurrency=workers,
            startup_timeout=STARTUP_TIMEOUT_S,
        ) as stack:
            yield stack


@contextmanager
def production_stack(workers: int):
    """licbench on Redis + PostgreSQL, started on loopback as tests/support/servers.py does."""
    from tests.support.servers import postgres_server, redis_server
    from tests.support.stack import running_stack

    with tempfile.TemporaryDirectory() as tmp:
        with postgres_server() as database_url, redis_server(Path(tmp) / "redis") as broker_url:
            with running_stack(
                database_url, broker_url, Path(tmp) / "data", concurrency=workers, startup_timeout=STARTUP_TIMEOUT_S
            ) as stack:
                yield stack


def _authorize(client, stack) -> None:
    """Give the client a user's bearer token (made in the stack's database) where the service has accounts
    and the stack's client does not carry one already."""
    if client.headers.get("Authorization"):
        return
    try:
        from tests.support.accounts import authorize
    except ImportError:  # a service without accounts
        return
    from app.settings import get_settings

    os.environ.update({k: stack.env[k] for k in ("DATABASE_URL", "BROKER_URL", "DATA_DIR")})
    get_settings.cache_clear()
    authorize(client, "pipeline-benchmark")


def _wait_for_worker(stack, timeout: float = STARTUP_TIMEOUT_S) -> None:
    """Start the clock only once the Celery worker has started (its imports are not the service's speed)."""
    deadline = time.monotonic() + timeout
    while " ready." not in stack.worker_log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            print(f"  (worker not ready after {timeout} s; timing anyway)")
            return
        time.sleep(0.5)


def _wait_for_job(client, job_id: int, timeout: float = 3600) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}")
        job.raise_for_status()
        if job.json()["status"] not in ("queued", "running"):
            return job.json()
        time.sleep(0.25)
    raise SystemExit(f"job {job_id} not finished after {timeout} s")


@dataclass
class ServiceRun:
    """One job through the service: wall time from the job request to the job's end, the compute inside
    tasks (encode + decode + scoring of every row), the result rows and the task table's rows."""

    wall: float
    compute: float
    results: int
    started: float  # time.time() of the job request
    tasks: list[dict]
    rows: list[dict]


def service_run(stack, images, chosen) -> ServiceRun:
    """Upload, queue and wait for the job through the real web server and Celery worker processes."""
    with stack.client() as client:
        _authorize(client, stack)
        _wait_for_worker(stack)
        files = []
        for name, image in images.items():
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format="PNG")
            files.append(("files", (f"{name}.png", buffer.getvalue(), "image/png")))
        upload = client.post("/api/v1/image-sets", data={"name": "bench"}, files=files)
        upload.raise_for_status()
        started_at = time.time()
        start = time.perf_counter()
        job = client.post(
            "/api/v1/jobs",
            json={
                "image_set_id": upload.json()["id"],
                "metrics": METRICS,
                "codecs": [{"name": n, "rate_points": p} for n, p in chosen],
            },
        )
        job.raise_for_status()
        job = job.json()
        finished = _wait_for_job(client, job["id"])
        wall = time.perf_counter() - start
        if finished["status"] != "succeeded":
            raise SystemExit(f"job failed: {finished['error']}")
        results = client.get(f"/api/v1/jobs/{job['id']}/results").json()
        tasks_answer = client.get(f"/api/v1/jobs/{job['id']}/tasks")
        tasks = tasks_answer.json() if tasks_answer.status_code == 200 else []
    compute = sum(r["encode_seconds"] + r["decode_seconds"] + r["metrics_seconds"] for r in results)
    return ServiceRun(wall, compute, len(results), started_at, tasks, results)


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def where_time_went(run: ServiceRun) -> dict[str, float]:
    """Worker-process seconds of the run split by the task table: ``compute`` (rows' encode + decode +
    scoring), ``in_task_other`` (the rest between a task's start and finish: reference preparation, codec
    load, PNG and database writes), ``first_wait`` (job request to each worker's first task), ``gaps``
    (a worker's finish to its next start: broker delivery + claim), ``tail`` (its last finish to the job's
    end, seen by the client's poll). Needs the tasks route; empty without it."""
    if not run.tasks or any(t.get("started_at") is None or t.get("finished_at") is None for t in run.tasks):
        return {}
    compute_by_task: dict[tuple[int, str], float] = {}
    for r in run.rows:
        key = (r["image_id"], r["codec"])
        compute_by_task[key] = (
            compute_by_task.get(key, 0.0) + r["encode_seconds"] + r["decode_seconds"] + r["metrics_seconds"]
        )
    end = run.started + run.wall
    split = {"compute": 0.0, "in_task_other": 0.0, "first_wait": 0.0, "gaps": 0.0, "tail": 0.0}
    by_worker: dict[str, list[tuple[float, float]]] = {}
    for t in run.tasks:
        span = (_seconds(t["started_at"]), _seconds(t["finished_at"]))
        by_worker.setdefault(t["worker"] or "?", []).append(span)
        compute = compute_by_task.get((t["image_id"], t["codec"]), 0.0)
        split["compute"] += compute
        split["in_task_other"] += span[1] - span[0] - compute
    for spans in by_worker.values():
        spans.sort()
        split["first_wait"] += spans[0][0] - run.started
        split["gaps"] += sum(b[0] - a[1] for a, b in zip(spans, spans[1:]))
        split["tail"] += end - spans[-1][1]
    split["workers_seen"] = len(by_worker)
    split["tasks"] = len(run.tasks)
    return split


def report(
    label: str,
    run: ServiceRun,
    ideal: float,
    baseline: float | None,
    workers: int,
    serial_compute: float,
    parallel: float,
) -> None:
    wall, compute = run.wall, run.compute
    overhead = (wall * workers - compute) / compute
    verdict = "met" if wall <= TARGET * ideal else "NOT met"
    print(
        f"licbench, {label} ({workers} worker processes): {wall:8.1f} s wall for {run.results} results "
        f"(compute inside tasks {compute:.1f} s); load {_load()}"
    )
    print(
        f"  wall / ideal                 : {wall / ideal:8.2f}x  (target <= {TARGET}x: {verdict}; ideal {ideal:.1f} s "
        f"= mean of the serial loops just before and after)"
    )
    print(
        f"  wall / the same loop in {workers} processes at once: {wall / parallel:5.2f}x (the service's own cost "
        f"under the same CPU contention; the rest of wall / ideal is the {workers} processes slowing each other)"
    )
    if baseline is not None:
        print(f"  speed-up vs default-thread serial loop: {baseline / wall:5.2f}x")
    print(f"  service overhead (queue + DB + PNG + idle): {100 * overhead:6.1f} % of compute")
    print(
        f"  compute inside tasks / the serial loop's compute: {compute / serial_compute:5.2f}x "
        f"(> 1: {workers} processes computing at once run slower per process than one alone)"
    )
    split = where_time_went(run)
    if split:
        total = wall * workers
        parts = ", ".join(
            f"{name} {split[name]:.1f} s ({100 * split[name] / total:.1f}%)"
            for name in ("compute", "in_task_other", "first_wait", "gaps", "tail")
        )
        print(
            f"  {workers} x wall = {total:.1f} worker-seconds: {parts}; {split['tasks']} tasks on "
            f"{split['workers_seen']} worker processes"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--images", type=int, default=8, choices=range(1, 9), metavar="1..8")
    parser.add_argument("--skip-production", action="store_true", help="only the embedded broker")
    parser.add_argument(
        "--skip-eval-loop",
        action="store_true",
        help="skip the eval_model-style loop (the slowest step; only the speed-up over it needs it)",
    )
    args = parser.parse_args()
    images = photos(args.images)
    chosen = selection(build_codecs(CodecContext()))
    rows = len(images) * sum(len(p) for _, p in chosen)
    print(
        f"{len(images)} images {HEIGHT}x{WIDTH}, codecs {chosen}, metrics {'+'.join(METRICS)}: {rows} results "
        f"in {len(images) * len(chosen)} tasks; {os.cpu_count()} CPU cores, load average "
        f"{os.getloadavg()[0]:.1f} at the start"
    )
    scaling_probe(args.workers)
    first = dict([next(iter(images.items()))])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    ideal_serial(first, [(name, points[:1]) for name, points in chosen])  # untimed warm-up: weights read,
    torch.set_num_threads(threads)  # networks built, first-call kernel set-up (the later loops start warm too)
    before, compute_before = measure_ideal(images, chosen, args.workers, "before")
    baseline = None if args.skip_eval_loop else serial_baseline(images, chosen)
    if baseline is not None:
        print(
            f"serial eval_model-style loop ({torch.get_num_threads()} torch threads, the default): {baseline:8.1f} s; "
            f"load {_load()}",
            flush=True,
        )
    with embedded_stack(args.workers) as stack:
        embedded = service_run(stack, images, chosen)
    parallel = parallel_ideal(images, chosen, args.workers)
    between, compute_between = measure_ideal(images, chosen, args.workers, "between")
    report(
        "embedded broker (SQLite)",
        embedded,
        (before + between) / 2,
        baseline,
        args.workers,
        (compute_before + compute_between) / 2,
        parallel,
    )
    if args.skip_production:
        return
    try:
        with production_stack(args.workers) as stack:
            production = service_run(stack, images, chosen)
    except RuntimeError as exc:  # no PostgreSQL/Redis binaries here
        print(f"licbench, Redis + PostgreSQL: not measured: {exc}")
        return
    parallel = parallel_ideal(images, chosen, args.workers)
    after, compute_after = measure_ideal(images, chosen, args.workers, "after")
    report(
        "Redis + PostgreSQL",
        production,
        (between + after) / 2,
        baseline,
        args.workers,
        (compute_between + compute_after) / 2,
        parallel,
    )
    print(f"load average at the end: {_load()} (1/5/15 min; other processes share these cores)")


if __name__ == "__main__":
    main()
