"""End to end on real parts: PostgreSQL, Redis, a Celery worker process and the web server process."""

from __future__ import annotations

import io
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.tables import Result
from models.codecs.jpeg import JpegCodec
from tests.support.images import png_bytes, random_photo

pytestmark = pytest.mark.integration

PHOTO = random_photo(192, 256, seed=11)
TINY = random_photo(48, 64, seed=12)  # below MS-SSIM's minimum size


def _results_of(engine, job_id: int) -> list:
    with Session(engine) as session:
        return list(session.scalars(select(Result).where(Result.job_id == job_id)))


def _decode_png(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


@pytest.fixture(scope="module")
def finished_job(production_stack):
    with production_stack.client() as client:
        upload = client.post(
            "/api/v1/image-sets",
            data={"name": "integration"},
            files=[
                ("files", ("photo.png", png_bytes(PHOTO), "image/png")),
                ("files", ("tiny.png", png_bytes(TINY), "image/png")),
            ],
        )
        assert upload.status_code == 201, upload.text
        images = {i["filename"]: i for i in upload.json()["images"]}
        created = client.post(
            "/api/v1/jobs",
            json={
                "image_set_id": upload.json()["id"],
                "codecs": [
                    {"name": "jpeg", "rate_points": [20, 80]},
                    {"name": "tiny-hyperprior", "rate_points": [1, 4]},
                ],
                "metrics": ["psnr", "ms-ssim"],
            },
        )
        assert created.status_code == 202, created.text
    job = production_stack.wait_for_job(created.json()["id"])
    return job, images


def test_health_sees_postgres_and_redis(production_stack):
    with production_stack.client() as client:
        body = client.get("/api/v1/health").json()
        assert {k: body[k] for k in ("status", "database", "broker")} == {
            "status": "ok",
            "database": "ok",
            "broker": "ok",
        }
        deadline = time.monotonic() + 120  # the worker's heartbeat starts once it is ready (issue 12)
        while not body["workers"]["alive"] and time.monotonic() < deadline:
            time.sleep(1)
            body = client.get("/api/v1/health").json()
        assert body["workers"]["alive"] and body["workers"]["count"] >= 1, body
        assert body["tasks_waiting"] >= 0


def test_job_runs_every_task_to_a_result(production_stack, finished_job):
    job, _ = finished_job
    assert job["status"] == "succeeded", job
    assert job["progress"] == {"done": 8, "total": 8}
    with production_stack.client() as client:
        results = client.get(f"/api/v1/jobs/{job['id']}/results").json()
    assert len(results) == 8
    assert {(r["codec"], r["rate_point"]) for r in results} == {
        ("jpeg", 20),
        ("jpeg", 80),
        ("tiny-hyperprior", 1),
        ("tiny-hyperprior", 4),
    }


def test_bpp_and_metrics_match_the_bytes_and_the_reconstruction(production_stack, finished_job):
    job, images = finished_job
    by_id = {i["id"]: i for i in images.values()}
    originals = {images["photo.png"]["id"]: PHOTO, images["tiny.png"]["id"]: TINY}
    with production_stack.client() as client:
        results = client.get(f"/api/v1/jobs/{job['id']}/results").json()
        for r in results:
            image = by_id[r["image_id"]]
            assert r["bpp"] == pytest.approx(8 * r["bytes"] / (image["width"] * image["height"]))
            recon = _decode_png(client.get(f"/api/v1/results/{r['id']}/reconstruction").content)
            original = originals[r["image_id"]]
            mse = np.mean((recon.astype(np.float64) - original) ** 2)
            assert r["metrics"]["psnr"] == pytest.approx(10 * np.log10(255**2 / mse), abs=1e-3)
            if r["codec"] == "jpeg":  # the worker's bytes are a real JPEG of this size
                assert r["bytes"] == len(JpegCodec().encode(original, r["rate_point"]))
            if r["image_id"] == images["tiny.png"]["id"]:
                assert r["metrics"]["ms-ssim"] is None and "161" in r["metric_notes"]["ms-ssim"]
            else:
                assert 0 < r["metrics"]["ms-ssim"] <= 1


def test_results_export_as_csv(production_stack, finished_job):
    job, _ = finished_job
    with production_stack.client() as client:
        csv_text = client.get(f"/api/v1/jobs/{job['id']}/results?format=csv").text
    lines = csv_text.strip().splitlines()
    assert lines[0].split(",")[-2:] == ["psnr", "ms-ssim"]
    assert len(lines) == 9


def test_a_result_is_unique_per_job_image_codec_rate_point(production_stack, finished_job):
    job, images = finished_job
    engine = create_engine(production_stack.env["DATABASE_URL"])
    with Session(engine) as session:
        before = session.scalar(select(func.count()).select_from(Result))
        existing = session.scalars(select(Result).where(Result.job_id == job["id"])).first()
        key = (existing.job_id, existing.image_id, existing.codec, existing.rate_point)
        session.add(
            Result(
                job_id=key[0],
                image_id=key[1],
                codec=key[2],
                rate_point=key[3],
                bytes=1,
                bpp=1.0,
                encode_seconds=0,
                decode_seconds=0,
                metrics={},
                metric_notes={},
                reconstruction_path="x",
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
    # A task message redelivered while its job runs goes through the real broker and worker and adds
    # nothing (the job is set back to running to recreate that moment; the task re-closes it).
    from celery import Celery

    from app.db.tables import Job

    with Session(engine) as session:
        session.get(Job, key[0]).status = "running"
        session.commit()

    sender = Celery(broker=production_stack.env["BROKER_URL"])
    sender.conf.task_default_queue = "cpu"
    # The message a job sends: one task per image x codec carrying all that codec's rate points.
    points = sorted({r.rate_point for r in _results_of(engine, key[0]) if (r.image_id, r.codec) == key[1:3]})
    assert len(points) == 2
    sender.send_task("licbench.run_task", args=[*key[:3], points])
    deadline = time.monotonic() + 60
    while "'duplicate'" not in production_stack.worker_log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "'duplicate'" in production_stack.worker_log.read_text()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Result)) == before
        assert session.get(Job, key[0]).status == "succeeded"
    engine.dispose()


def test_a_failing_task_is_recorded_without_losing_other_results(production_stack):
    with production_stack.client() as client:
        upload = client.post(
            "/api/v1/image-sets",
            data={"name": "one broken"},
            files=[
                ("files", ("good.png", png_bytes(random_photo(64, 64, seed=21)), "image/png")),
                ("files", ("lost.png", png_bytes(random_photo(64, 64, seed=22)), "image/png")),
            ],
        ).json()
        lost = next(i for i in upload["images"] if i["filename"] == "lost.png")
        # Simulate a storage fault: the stored pixels of one image disappear before the job runs.
        for path in (production_stack.data_dir / "images").glob("*.png"):
            if np.array_equal(_decode_png(path.read_bytes()), random_photo(64, 64, seed=22)):
                path.unlink()
        created = client.post(
            "/api/v1/jobs",
            json={"image_set_id": upload["id"], "codecs": [{"name": "jpeg", "rate_points": [50]}], "metrics": ["psnr"]},
        ).json()
        job = production_stack.wait_for_job(created["id"])
        results = client.get(f"/api/v1/jobs/{created['id']}/results").json()
    assert job["status"] == "failed"
    assert job["progress"] == {"done": 2, "total": 2}
    assert "1 of 2 tasks failed" in job["error"] and f"image {lost['id']}" in job["error"]
    assert [r["image_id"] for r in results] != [] and all(r["image_id"] != lost["id"] for r in results)


def test_a_submitted_model_is_benchmarked_like_any_other(production_stack):
    import torch
    from compressai.models import FactorizedPrior

    token = subprocess.run(
        [sys.executable, "-m", "app.cli", "token", "create", "--name", "ci"],
        env=production_stack.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    torch.manual_seed(5)
    net = FactorizedPrior(N=8, M=12)
    net.update(force=True)
    buffer = io.BytesIO()
    torch.save(net.state_dict(), buffer)
    with production_stack.client() as client:
        submitted = client.post(
            "/api/v1/models",
            headers={"Authorization": f"Bearer {token}"},
            data={"name": "lab-factorized", "architecture": "bmshj2018-factorized"},
            files={"checkpoint": ("q1.pth", buffer.getvalue(), "application/octet-stream")},
        )
        assert submitted.status_code == 201, submitted.text
        codecs = {c["name"]: c for c in client.get("/api/v1/codecs").json()}
        assert codecs["lab-factorized"]["kind"] == "submitted"
        upload = client.post(
            "/api/v1/image-sets",
            data={"name": "submitted"},
            files=[("files", ("p.png", png_bytes(random_photo(64, 96, seed=31)), "image/png"))],
        ).json()
        created = client.post(
            "/api/v1/jobs",
            json={
                "image_set_id": upload["id"],
                "metrics": ["psnr"],
                "codecs": [{"name": "lab-factorized", "rate_points": [1]}],
            },
        )
        assert created.status_code == 202, created.text
        job = production_stack.wait_for_job(created.json()["id"])
        assert job["status"] == "succeeded", job
        results = client.get(f"/api/v1/jobs/{job['id']}/results").json()
    assert len(results) == 1 and results[0]["bytes"] > 0 and results[0]["device"] == "cpu"


def test_migrations_are_the_schema(production_stack):
    """Alembic's head matches the SQLAlchemy models (no drift between tables.py and migrations/)."""
    out = subprocess.run(
        [sys.executable, "-m", "alembic", "check"], env=production_stack.env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
