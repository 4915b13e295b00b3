"""Benchmark: a bounded load test of a real licbench server on loopback (issue 13), from ONE run, on the embedded
SQLite default and on PostgreSQL + Redis (started on loopback as the integration tests do; skipped with the
reason if their binaries are missing).

Per backend, against one uvicorn process (no worker: queued tasks wait in the broker, so the CPU measures the
API; the server is started with the upload rate limit off, ``UPLOADS_PER_MINUTE=0``, since one client address
sends every upload here):

1. ``/health`` latency idle vs during 10 concurrent uploads (``benchmarks/api.py``'s probe, same run).
2. Closed-loop load: ``--clients`` asyncio httpx clients for ``--seconds`` seconds, each cycling through an upload
   (1 image), a job submission, result-page, RD and BD-rate reads of a finished 2,000-row job, and page loads
   (``/``, the job page, the image-set page). Bounded in time and count (``--max-requests``). Prints throughput,
   p50/p99 overall and per kind, status codes, and the count of 5xx (target 0; the exit code is 1 otherwise).
3. The largest job one request may create (``MAX_FILES_PER_UPLOAD`` images x every available codec, rate points
   within ``MAX_TASKS_PER_JOB`` result rows): the time until the 202 answer and the tasks sent.

    python benchmarks/load.py [--backends sqlite,postgres] [--seconds 20] [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.api import (  # noqa: E402
    Recorder,
    Server,
    api_server,
    each_backend,
    health_during_uploads,
    insert_synthetic_job,
    png,
    summary,
    upload,
)

KINDS = ("upload", "job submit", "results", "rd", "bd-rate", "page /", "page job", "page image set")


async def closed_loop(
    server: Server, job_id: int, set_id: int, seconds: float, clients: int, max_requests: int
) -> Recorder:
    """``clients`` concurrent clients, each sending its next request as soon as the last is answered."""
    recorder = Recorder()
    sent = 0
    async with httpx.AsyncClient(
        base_url=server.base_url, headers=server.headers, timeout=120, limits=httpx.Limits(max_connections=clients)
    ) as client:
        small_set = await upload(client, recorder, 700, images=2)
        deadline = time.monotonic() + seconds
        seeds = iter(range(10_000, 10**7))

        async def one_client(index: int) -> None:
            nonlocal sent
            step = index
            while time.monotonic() < deadline and sent < max_requests:
                kind = KINDS[step % len(KINDS)]
                step += 1
                sent += 1
                if kind == "upload":
                    await upload(client, recorder, next(seeds), images=1)
                elif kind == "job submit":
                    await recorder.timed(
                        kind,
                        client.post(
                            "/api/v1/jobs",
                            json={
                                "image_set_id": small_set,
                                "metrics": ["psnr"],
                                "codecs": [{"name": "jpeg", "rate_points": [30, 60]}],
                            },
                        ),
                    )
                elif kind == "results":
                    await recorder.timed(kind, client.get(f"/api/v1/jobs/{job_id}/results?limit=100"))
                elif kind == "rd":
                    await recorder.timed(kind, client.get(f"/api/v1/jobs/{job_id}/rd?metric=psnr"))
                elif kind == "bd-rate":
                    await recorder.timed(kind, client.get(f"/api/v1/jobs/{job_id}/bd-rate?anchor=jpeg&metric=psnr"))
                elif kind == "page /":
                    await recorder.timed(kind, client.get("/"))
                elif kind == "page job":
                    await recorder.timed(kind, client.get(f"/jobs/{job_id}"))
                else:
                    await recorder.timed(kind, client.get(f"/image-sets/{set_id}"))

        started = time.monotonic()
        await asyncio.gather(*(one_client(i) for i in range(clients)))
        recorder.wall = time.monotonic() - started
    return recorder


def report_load(recorder: Recorder, clients: int) -> int:
    every = [v for values in recorder.latencies.values() for v in values]
    errors = recorder.server_errors()
    print(
        f"  closed loop, {clients} clients for {recorder.wall:.1f} s: {len(every)} requests, "
        f"{len(every) / recorder.wall:.1f} req/s, all kinds {summary(every)}; 5xx: {errors}"
    )
    for kind in sorted(recorder.latencies):
        codes = {code: recorder.statuses[kind].count(code) for code in sorted(set(recorder.statuses[kind]))}
        print(f"    {kind:16s} {summary(recorder.latencies[kind])}  status {codes}")
    return errors


async def largest_job(server: Server) -> None:
    """Upload MAX_FILES_PER_UPLOAD tiny images, then time POST /api/v1/jobs naming every available codec."""
    env = server.env
    files_limit = int(env.get("MAX_FILES_PER_UPLOAD", 200))
    rows_limit = int(env.get("MAX_TASKS_PER_JOB", 20_000))
    async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers, timeout=600) as client:
        files = [("files", (f"t{i}.png", png(50_000 + i, size=32), "image/png")) for i in range(files_limit)]
        made = await client.post("/api/v1/image-sets", data={"name": "largest job"}, files=files)
        if made.status_code != 201:
            print(f"  largest job: upload of {files_limit} images answered {made.status_code}: {made.text[:200]}")
            return
        set_id = made.json()["id"]
        codecs = [c for c in (await client.get("/api/v1/codecs")).json() if c.get("available")]
        budget = rows_limit // files_limit  # rate points summed over the codecs
        selection, used = [], 0
        for codec in codecs:
            points = list(codec.get("rate_points") or [])[
                : max(1, (budget - used) // max(1, len(codecs) - len(selection)))
            ]
            if not points or used + len(points) > budget:
                continue
            selection.append({"name": codec["name"], "rate_points": points})
            used += len(points)
        waiting_before = messages_waiting(server)
        started = time.perf_counter()
        answer = await client.post(
            "/api/v1/jobs", json={"image_set_id": set_id, "codecs": selection, "metrics": ["psnr"]}
        )
        elapsed = time.perf_counter() - started
        tasks = files_limit * len(selection)
        sent_after = "n/a (broker not readable)"
        if waiting_before is not None and answer.status_code == 202:
            while (messages_waiting(server) or 0) < waiting_before + tasks and time.perf_counter() - started < 600:
                await asyncio.sleep(0.2)
            sent_after = f"{time.perf_counter() - started:.2f} s"
    detail = answer.json().get("detail", "") if answer.status_code >= 400 else ""
    print(
        f"  largest job: {files_limit} images x {len(selection)} codecs = {tasks} tasks, {files_limit * used} "
        f"result rows: POST /api/v1/jobs answered {answer.status_code} in {elapsed:.2f} s {detail}; "
        f"all its messages in the broker after {sent_after}"
    )
    over = await _over_limit(server, set_id, selection)
    print(f"  {files_limit} images x 101 rate points (over MAX_TASKS_PER_JOB): {over}")


def messages_waiting(server: Server) -> int | None:
    """Messages waiting in the broker's queues (Redis lists, or the embedded SQLite broker's visible rows);
    None when the broker cannot be read this way."""
    url = server.env.get("BROKER_URL", "")
    try:
        if url.startswith("redis://"):
            import redis

            connection = redis.Redis.from_url(url)
            return sum(connection.llen(name) for name in ("cpu", "gpu"))
        import sqlite3

        path = Path(server.env["DATA_DIR"]) / "broker.sqlite"
        with sqlite3.connect(path, timeout=30) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            table = next(name for name in ("licbench_broker_message", "kombu_message") if name in tables)
            return connection.execute(f"SELECT count(*) FROM {table} WHERE visible = 1").fetchone()[0]
    except Exception:  # another broker layout: say so instead of guessing
        return None


async def _over_limit(server: Server, set_id: int, selection: list[dict]) -> str:
    async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers, timeout=120) as client:
        body = {
            "image_set_id": set_id,
            "metrics": ["psnr"],
            "codecs": [
                {"name": "jpeg", "rate_points": list(range(1, 96))},
                {"name": "webp", "rate_points": [10, 30, 50, 70, 80, 90]},
            ],
        }
        answer = await client.post("/api/v1/jobs", json=body)
    return f"{answer.status_code} {answer.json().get('detail', '')[:120]!r}"


def finished_job(database_url: str, rows: int, images: int) -> tuple[int, int]:
    """(job id, image set id) of a succeeded job with ``rows`` synthetic results (benchmarks/api.py inserts it)."""
    made = insert_synthetic_job(database_url, rows, images)
    if isinstance(made, tuple):
        return made
    from sqlalchemy import create_engine, select

    from app.db.tables import Job

    engine = create_engine(database_url)
    with engine.connect() as connection:
        set_id = connection.scalar(select(Job.image_set_id).where(Job.id == made))
    engine.dispose()
    return made, set_id


def run_backend(name: str, database_url: str, broker_url: str, data_dir: Path, args: argparse.Namespace) -> int:
    print(f"\n== {name} ==")
    with api_server(database_url, broker_url, data_dir) as server:
        asyncio.run(health_during_uploads(server))
        url = database_url or f"sqlite:///{(data_dir / 'licbench.sqlite').resolve()}"
        job_id, set_id = finished_job(url, 2_000, 10)
        recorder = asyncio.run(closed_loop(server, job_id, set_id, args.seconds, args.clients, args.max_requests))
        errors = report_load(recorder, args.clients)
        asyncio.run(largest_job(server))
        log_errors = [line for line in server.log.read_text(errors="replace").splitlines() if "Traceback" in line]
        print(f"  server log: {len(log_errors)} tracebacks")
        return errors + len(log_errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--max-requests", type=int, default=20_000)
    args = parser.parse_args()
    os.environ["UPLOADS_PER_MINUTE"] = "0"  # every upload comes from one address and one user here
    errors = 0
    with tempfile.TemporaryDirectory(prefix="licbench-load-") as workdir:
        for label, database_url, broker_url, folder in each_backend(args.backends, Path(workdir)):
            errors += run_backend(label, database_url, broker_url, folder, args)
    print(f"\n5xx answers and server tracebacks in all: {errors}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
