"""Benchmark: does ``licbench backup`` block the API? (issue 32: never more than a second).

Per backend (embedded SQLite; PostgreSQL + Redis on loopback when their binaries exist), against a real uvicorn
process: a finished job with ``--rows`` result rows (bulk-inserted, each with a ``--file-kb`` reconstruction file)
is stored, ``/health`` is polled sequentially while idle, then while ``licbench backup`` runs in another process,
then ``licbench restore`` of that backup into a fresh data directory and database is timed. Printed: /health
p50/p99/max idle and during the backup, the backup's wall time and size, the restore's wall time.

    python benchmarks/backup.py [--backends sqlite,postgres] [--rows 20000] [--file-kb 4]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.api import api_server, each_backend, quantile  # noqa: E402

IMAGES = 20
CODECS = ("jpeg", "webp")


def store_job(server, rows: int, file_kb: int) -> int:
    """Image rows with real files, and a finished job with ``rows`` results, each with a reconstruction file."""
    from sqlalchemy import create_engine, insert, select

    from app.db.tables import Image, ImageSet, User
    from app.settings import Settings
    from tests.support.results import insert_job, synthetic_results

    settings = Settings(_env_file=None, data_dir=Path(server.env["DATA_DIR"]), database_url=server.env["DATABASE_URL"])
    data_dir = settings.data_dir
    engine = create_engine(settings.resolved_database_url)
    points = max(1, rows // (IMAGES * len(CODECS)))
    rate_points = [float(5 + 90 * i / max(1, points - 1)) for i in range(points)]
    codecs = {codec: rate_points for codec in CODECS}
    with engine.begin() as connection:
        owner = connection.scalar(select(User.id).where(User.name == "bench"))
        set_id = connection.execute(
            insert(ImageSet).values(name="backup bench", owner_id=owner, visibility="public")
        ).inserted_primary_key[0]
        images = []
        for i in range(IMAGES):
            data = os.urandom(64 * 1024)
            digest = hashlib.sha256(data).hexdigest()
            (data_dir / "images").mkdir(parents=True, exist_ok=True)
            (data_dir / "images" / f"{digest}.png").write_bytes(data)
            images.append(
                dict(
                    image_set_id=set_id,
                    filename=f"s{i}.png",
                    content_hash=digest,
                    width=512,
                    height=512,
                    original_format="PNG",
                    original_mode="RGB",
                    conversion="none",
                )
            )
        connection.execute(insert(Image), images)
        image_ids = list(connection.scalars(select(Image.id).where(Image.image_set_id == set_id)))
        job_id = insert_job(connection, owner, set_id, codecs, ["psnr"], synthetic_results(image_ids, codecs))
    folder = data_dir / "reconstructions" / str(job_id)
    folder.mkdir(parents=True, exist_ok=True)
    payload = os.urandom(file_kb * 1024)
    count = len(rate_points) * len(CODECS) * IMAGES
    for index in range(count):
        (folder / f"{index}.png").write_bytes(payload[:-8] + index.to_bytes(8, "big"))
    engine.dispose()
    return count


def probe(base_url: str, stop: threading.Event, latencies: list[float], errors: list[int]) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            status = client.get("/api/v1/health").status_code
            latencies.append(time.perf_counter() - started)
            if status >= 500:
                errors.append(status)
            time.sleep(0.02)


def line(label: str, values: list[float]) -> str:
    return (
        f"  /health {label}: n={len(values)}  p50 {quantile(values, 0.5) * 1000:.0f} ms  "
        f"p99 {quantile(values, 0.99) * 1000:.0f} ms  max {max(values) * 1000:.0f} ms"
    )


def run_backend(label: str, database_url: str, broker_url: str, folder: Path, args) -> None:
    print(f"\n== {label}")
    with api_server(database_url, broker_url, folder / "data") as server:
        count = store_job(server, args.rows, args.file_kb)
        print(f"  stored a finished job with {count:,} results and {count + IMAGES:,} files")
        idle: list[float] = []
        stop, errors = threading.Event(), []
        thread = threading.Thread(target=probe, args=(server.base_url, stop, idle, errors))
        thread.start()
        time.sleep(3)
        stop.set()
        thread.join()
        during: list[float] = []
        stop = threading.Event()
        thread = threading.Thread(target=probe, args=(server.base_url, stop, during, errors))
        thread.start()
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "backup", str(folder / "backup")],
            env=server.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        backup_s = time.perf_counter() - started
        stop.set()
        thread.join()
        print(line("idle          ", idle))
        print(line("during backup ", during))
        print(f"  backup: exit {done.returncode}, {backup_s:.1f} s: {done.stdout.strip().splitlines()[-1]}")
        print(
            f"  /health 5xx during the run: {len(errors)}; slowest during the backup "
            f"{max(during) * 1000:.0f} ms ({'PASS' if max(during) < 1.0 else 'FAIL'} against 1 s)"
        )
    if database_url:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text('CREATE DATABASE "restored"'))
        admin.dispose()
        target_url = make_url(database_url).set(database="restored").render_as_string(hide_password=False)
    else:
        target_url = ""
    env = dict(server.env, DATA_DIR=str(folder / "restored"), DATABASE_URL=target_url)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "restore", str(folder / "backup")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    print(
        f"  restore into a fresh {'PostgreSQL database' if target_url else 'SQLite file'}: exit "
        f"{done.returncode}, {time.perf_counter() - started:.1f} s: "
        f"{(done.stdout or done.stderr).strip().splitlines()[-1]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--file-kb", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="licbench-backup-bench-") as workdir:
        for label, database_url, broker_url, folder in each_backend(args.backends, Path(workdir)):
            run_backend(label, database_url, broker_url, folder, args)


if __name__ == "__main__":
    main()
