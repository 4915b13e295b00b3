"""The first five minutes of a new user: `licbench run` on embedded defaults in a fresh DATA_DIR, timed from the
server's first 200 on /api/v1/health.

Prints when the demo job's RD plot first shows a classical and a learned curve, when its BD table (anchor jpeg,
PSNR) first has a number for a learned codec, the ETA the job page showed at 60 s against the real remaining time,
when the demo succeeded, and when the leaderboard listed the demo set. Also how many rate points were done at
each of those times, and the machine's load average.

    python benchmarks/first_five_minutes.py [--port 8765] [--limit-s 900]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # before benchmarks/, whose metrics.py would hide the metrics package


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except Exception as exc:  # not up yet, or 4xx
        return getattr(exc, "code", None), None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--limit-s", type=float, default=900.0)
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    data_dir = Path(tempfile.mkdtemp(prefix="licbench-first-"))
    env = {**os.environ, "DATA_DIR": str(data_dir), "PORT": str(args.port), "DATABASE_URL": "", "BROKER_URL": ""}
    log = open(data_dir / "run.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    marks: dict[str, float] = {}
    eta_at_60: float | None = None
    started = time.monotonic()
    try:
        while time.monotonic() - started < args.limit_s:
            if get(f"{base}/api/v1/health")[0] == 200:
                break
            time.sleep(0.2)
        else:
            print("the server never answered", file=sys.stderr)
            return 1
        t0 = time.monotonic()
        print(f"server up after {t0 - started:.1f} s; load average {os.getloadavg()}", flush=True)
        from app.services.jobs.catalog import registry_codecs  # only the codec kinds

        kinds = {name: codec.kind for name, codec in registry_codecs().items()}
        job_id = None
        while time.monotonic() - t0 < args.limit_s:
            now = time.monotonic() - t0
            if job_id is None:
                _, jobs = get(f"{base}/api/v1/jobs")
                job_id = jobs[-1]["id"] if jobs else None
                time.sleep(0.5)
                continue
            _, job = get(f"{base}/api/v1/jobs/{job_id}")
            if job is None:
                time.sleep(0.5)
                continue
            done = job["progress"]["done"]
            if "curves" not in marks:
                _, rd = get(f"{base}/api/v1/jobs/{job_id}/rd?metric=psnr")
                found = {kinds.get(c["codec"], "learned") for c in (rd or {}).get("curves", []) if c["points"]}
                if {"classical", "learned"} <= found:
                    marks["curves"] = now
                    print(
                        f"{now:6.1f} s  RD plot shows a classical and a learned curve ({done} rate points)", flush=True
                    )
            if "bd" not in marks:
                _, bd = get(f"{base}/api/v1/jobs/{job_id}/bd-rate?anchor=jpeg&metric=psnr")
                numbers = [
                    r
                    for r in (bd or {}).get("rows", [])
                    if r["bd_rate"]["value"] is not None and kinds.get(r["codec"], "learned") == "learned"
                ]
                if numbers:
                    marks["bd"] = now
                    print(
                        f"{now:6.1f} s  BD table: {numbers[0]['codec']} {numbers[0]['bd_rate']['value']:.1f} % "
                        f"on {numbers[0].get('images')} image(s) ({done} rate points)",
                        flush=True,
                    )
            if eta_at_60 is None and now >= 60:
                eta_at_60 = job.get("estimated_seconds_left")
                print(
                    f"{now:6.1f} s  job page ETA {eta_at_60} s ({done}/{job['progress']['total']}); "
                    f"load {os.getloadavg()}",
                    flush=True,
                )
                marks["eta"] = now
            if job["status"] not in ("queued", "running") and "done" not in marks:
                marks["done"] = now
                print(f"{now:6.1f} s  demo job {job['status']} ({done}/{job['progress']['total']})", flush=True)
            if "done" in marks:
                _, sets = get(f"{base}/api/v1/leaderboard/image-sets")
                if sets:
                    marks["leaderboard"] = now
                    print(
                        f"{now:6.1f} s  leaderboard lists {sets[0]['name']!r} "
                        f"({now - marks['done']:.1f} s after the demo finished)",
                        flush=True,
                    )
                    break
            time.sleep(1.0)
        if eta_at_60 is not None and "done" in marks:
            real = marks["done"] - marks["eta"]
            print(f"ETA at 60 s: {eta_at_60:.0f} s shown, {real:.0f} s real (ratio {eta_at_60 / max(real, 1e-9):.2f})")
        print(f"load average at the end {os.getloadavg()}; data dir {data_dir}")
        return 0 if "leaderboard" in marks else 1
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
