"""`make run`'s embedded set-up: SQLite database and SQLite broker, same tasks in a real worker process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.images import png_bytes, random_photo
from tests.support.stack import ROOT, running_stack

pytestmark = pytest.mark.integration


def test_a_job_runs_on_sqlite_with_the_embedded_broker(tmp_path):
    data_dir = tmp_path / "data"
    database_url = f"sqlite:///{data_dir / 'licbench.sqlite'}"
    broker_url = f"sqla+sqlite:///{data_dir / 'broker.sqlite'}"
    with running_stack(database_url, broker_url, data_dir) as stack, stack.client() as client:
        assert client.get("/api/v1/health").json()["status"] == "ok"
        upload = client.post(
            "/api/v1/image-sets",
            data={"name": "embedded"},
            files=[("files", ("a.png", png_bytes(random_photo(64, 64)), "image/png"))],
        ).json()
        job = client.post(
            "/api/v1/jobs",
            json={
                "image_set_id": upload["id"],
                "codecs": [
                    {"name": "jpeg", "rate_points": [30, 90]},
                    {"name": "tiny-hyperprior", "rate_points": [2]},
                    {"name": "licbench-multirate", "rate_points": [0, 0.37, 1]},
                    {"name": "licbench-multirate-refined", "rate_points": [0.37]},
                ],
            },
        ).json()
        finished = stack.wait_for_job(job["id"])
        assert finished["status"] == "succeeded", finished
        results = client.get(f"/api/v1/jobs/{job['id']}/results").json()
        assert len(results) == 7 and all(r["bytes"] > 0 for r in results)
        multirate = sorted((r["rate_point"], r["bytes"]) for r in results if r["codec"] == "licbench-multirate")
        assert [rp for rp, _ in multirate] == [0, 0.37, 1]
        assert [b for _, b in multirate] == sorted(b for _, b in multirate)  # one checkpoint, rising rate
        # the refining encoder (same checkpoint and decoder) runs in the worker too
        assert [r["rate_point"] for r in results if r["codec"] == "licbench-multirate-refined"] == [0.37]

        # The demo command loads the shipped photos and queues a job over every available codec but the slow ones.
        demo = subprocess.run(
            [sys.executable, "-m", "app.cli", "demo"], env=stack.env, cwd=ROOT, capture_output=True, text=True
        )
        assert demo.returncode == 0, demo.stderr
        jobs = client.get("/api/v1/jobs").json()
        demo_job = next(j for j in jobs if j["id"] != job["id"])
        codecs = {c["name"] for c in demo_job["codecs"]}
        assert {"jpeg", "tiny-hyperprior", "licbench-multirate"} <= codecs
        assert "licbench-multirate-refined" not in codecs  # minutes per image on a CPU: one click away, not default
        assert demo_job["progress"]["total"] == 4 * sum(len(c["rate_points"]) for c in demo_job["codecs"])
        # the demo job's work is not this test's: cancelled now, the worker stops taking its tasks (any job counts
        # as the demo job for the second run)
        client.post(f"/api/v1/jobs/{demo_job['id']}/cancel")
        again = subprocess.run(
            [sys.executable, "-m", "app.cli", "demo"], env=stack.env, cwd=ROOT, capture_output=True, text=True
        )
        assert "already exists" in again.stdout
