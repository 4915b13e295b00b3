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

    python benchmarks/pipeline.py [--workers 2] [--images 8]
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from contextlib import contextmanager
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


def ideal_serial(images, chosen) -> tuple[float, float]:
    """The service's work as a plain serial loop (call it on one torch thread): per image and codec, the
    reference prepared once, then per rate point encode, decode from the bytes and score. Returns its
    wall time and, apart, the time PNG-encoding the reconstructions would take (as the service stores them)."""
    from app.services.benchmark import png_bytes
    from metrics.registry import build_metrics
    from metrics.scoring import prepare_reference, score_prepared
    from models.measure import measure

    codecs = build_codecs(CodecContext())  # one network cache, as a worker process has
    metrics = list(build_metrics(names=METRICS).values())
    png_seconds = 0.0
    start = time.perf_counter()
    for image in images.values():
        for name, points in chosen:
            prepared = prepare_reference(image, metrics)
            for rate_point in points:
                m = measure(codecs[name], image, rate_point)
                score_prepared(prepared, [m.reconstruction])
                png_started = time.perf_counter()
                png_bytes(m.reconstruction)
                png_seconds += time.perf_counter() - png_started
    return time.perf_counter() - start - png_seconds, png_seconds


@contextmanager
def embedded_stack(workers: int):
    """licbench on its embedded defaults: SQLite database and SQLite broker (kombu sqla)."""
    from tests.support.stack import running_stack

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        with running_stack(f"sqlite:///{data_dir / 'db.sqlite'}", f"sqla+sqlite:///{data_dir / 'broker.sqlite'}",
                           data_dir, concurrency=workers, startup_timeout=STARTUP_TIMEOUT_S) as stack:
            yield stack


@contextmanager
def production_stack(workers: int):
    """licbench on Redis + PostgreSQL, started on loopback as tests/support/servers.py does."""
    from tests.support.servers import postgres_server, redis_server
    from tests.support.stack import running_stack

    with tempfile.TemporaryDirectory() as tmp:
        with postgres_server() as database_url, redis_server(Path(tmp) / "redis") as broker_url:
            with running_stack(database_url, broker_url, Path(tmp) / "data", concurrency=workers,
                               startup_timeout=STARTUP_TIMEOUT_S) as stack:
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


def service_run(stack, images, chosen) -> tuple[float, float, int]:
    """Upload, queue and wait for the job through the real web server and Celery worker processes;
    returns the wall time from the job request to its end, the compute inside tasks and the results."""
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
        start = time.perf_counter()
        job = client.post("/api/v1/jobs", json={"image_set_id": upload.json()["id"], "metrics": METRICS,
                                                "codecs": [{"name": n, "rate_points": p} for n, p in chosen]})
        job.raise_for_status()
        job = job.json()
        finished = _wait_for_job(client, job["id"])
        wall = time.perf_counter() - start
        if finished["status"] != "succeeded":
            raise SystemExit(f"job failed: {finished['error']}")
        results = client.get(f"/api/v1/jobs/{job['id']}/results").json()
    compute = sum(r["encode_seconds"] + r["decode_seconds"] + r["metrics_seconds"] for r in results)
    return wall, compute, len(results)


def report(label: str, wall: float, compute: float, n: int, ideal: float, baseline: float, workers: int) -> None:
    overhead = (wall * workers - compute) / compute
    verdict = "met" if wall <= TARGET * ideal else "NOT met"
    print(f"licbench, {label} ({workers} worker processes): {wall:8.1f} s wall for {n} results "
          f"(compute inside tasks {compute:.1f} s)")
    print(f"  wall / ideal                 : {wall / ideal:8.2f}x  (target <= {TARGET}x: {verdict})")
    print(f"  speed-up vs default-thread serial loop: {baseline / wall:5.2f}x")
    print(f"  service overhead (queue + DB + PNG + idle): {100 * overhead:6.1f} % of compute")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--images", type=int, default=8, choices=range(1, 9), metavar="1..8")
    parser.add_argument("--skip-production", action="store_true", help="only the embedded broker")
    args = parser.parse_args()
    images = photos(args.images)
    chosen = selection(build_codecs(CodecContext()))
    rows = len(images) * sum(len(p) for _, p in chosen)
    print(f"{len(images)} images {HEIGHT}x{WIDTH}, codecs {chosen}, metrics {'+'.join(METRICS)}: {rows} results "
          f"in {len(images) * len(chosen)} tasks; {os.cpu_count()} CPU cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    single, png = ideal_serial(images, chosen)
    torch.set_num_threads(threads)
    ideal = single / args.workers
    print(f"serial loop, same work, 1 torch thread : {single:8.1f} s (+ {png:.1f} s if it PNG-encoded the "
          f"reconstructions too); ideal = / {args.workers} workers = {ideal:.1f} s")
    baseline = serial_baseline(images, chosen)
    print(f"serial eval_model-style loop ({threads} torch threads, the default): {baseline:8.1f} s")
    with embedded_stack(args.workers) as stack:
        report("embedded broker (SQLite)", *service_run(stack, images, chosen), ideal, baseline, args.workers)
    if args.skip_production:
        return
    try:
        with production_stack(args.workers) as stack:
            report("Redis + PostgreSQL", *service_run(stack, images, chosen), ideal, baseline, args.workers)
    except RuntimeError as exc:  # no PostgreSQL/Redis binaries here
        print(f"licbench, Redis + PostgreSQL: not measured: {exc}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other processes share these cores)")


if __name__ == "__main__":
    main()
