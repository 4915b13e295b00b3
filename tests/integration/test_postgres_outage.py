"""Issue 13, on real parts: PostgreSQL is stopped mid-job (``pg_ctl stop -m fast``) for 5 s under a real Celery
worker (Redis broker) and the uvicorn server. While it is down the API answers 503 JSON; the workers retry their
database work with back-off instead of dropping tasks; after PostgreSQL returns the job completes with every result
exactly once, every task done, and no reconstruction file without its row. On the same stack, the worker's periodic
sweep re-queues a task whose worker vanished and re-sends a queued task whose message the broker lost."""

from __future__ import annotations

import time
from datetime import UTC

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from tests.support.images import png_bytes, random_photo
from tests.support.restartable_postgres import restartable_postgres
from tests.support.servers import redis_server
from tests.support.stack import running_stack

pytestmark = pytest.mark.integration

IMAGES, RATE_POINTS = 6, [10, 25, 40, 55, 70, 85]
CODECS = ["jpeg", "webp"]
OUTAGE_S = 5.0


@pytest.fixture(scope="module")
def outage_stack(tmp_path_factory):
    """Its own PostgreSQL (stopped by the test), Redis, server and worker; the sweep runs every 2 s."""
    tmp_path = tmp_path_factory.mktemp("outage")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SWEEP_INTERVAL_S", "2")
        env.setenv("TASK_REDELIVERY_S", "6")
        with restartable_postgres() as postgres, redis_server(tmp_path / "redis") as broker_url:
            with running_stack(postgres.url, broker_url, tmp_path / "data", startup_timeout=240) as stack:
                yield stack, postgres


def _wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(f"{what} not seen within {timeout} s")


def test_postgres_stopped_mid_job_gives_503s_and_the_job_completes_once_it_returns(outage_stack):
    stack, postgres = outage_stack
    total = IMAGES * len(CODECS) * len(RATE_POINTS)
    with stack.client() as client:
        files = [
            ("files", (f"p{i}.png", png_bytes(random_photo(384, 512, seed=100 + i)), "image/png"))
            for i in range(IMAGES)
        ]
        upload = client.post("/api/v1/image-sets", data={"name": "outage"}, files=files)
        assert upload.status_code == 201, upload.text
        created = client.post(
            "/api/v1/jobs",
            json={
                "image_set_id": upload.json()["id"],
                "metrics": ["psnr", "ms-ssim"],
                "codecs": [{"name": c, "rate_points": RATE_POINTS} for c in CODECS],
            },
        )
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]

        def midway():
            job = client.get(f"/api/v1/jobs/{job_id}").json()
            return job if 0 < job["progress"]["done"] < total * 0.6 else None

        before = _wait_until(midway, 240, "the job half done")
        assert before["status"] == "running", before

        postgres.stop()
        stopped = time.monotonic()
        answers = []
        while time.monotonic() - stopped < OUTAGE_S:  # what clients see while the database is down
            for method, path in (
                ("GET", f"/api/v1/jobs/{job_id}"),
                ("GET", f"/api/v1/jobs/{job_id}/results"),
                ("GET", f"/api/v1/jobs/{job_id}/tasks"),
                ("POST", f"/api/v1/jobs/{job_id}/retry"),
            ):
                try:
                    answer = client.request(method, path, timeout=10)
                    answers.append(
                        (
                            path,
                            answer.status_code,
                            answer.headers.get("content-type", ""),
                            answer.text,
                            answer.headers.get("retry-after"),
                        )
                    )
                except httpx.HTTPError as exc:  # a reset connection would land here
                    answers.append((path, type(exc).__name__, "", str(exc), None))
            time.sleep(0.3)
        postgres.start()
        restarted = time.monotonic()

        assert len(answers) >= 8
        wrong = [
            a
            for a in answers
            if a[1] != 503
            or not a[2].startswith("application/json")
            or '"database unavailable, retry later"' not in a[3]
            or not a[4]
        ]
        assert wrong == [], wrong[:5]

    job = stack.wait_for_job(job_id, timeout=300)
    finished_after = time.monotonic() - restarted
    assert job["status"] == "succeeded", job
    assert job["progress"] == {"done": total, "total": total}

    from app.db.tables import Result, Task, TaskFailure

    engine = create_engine(stack.env["DATABASE_URL"])
    with Session(engine) as session:
        rows = session.execute(
            select(Result.image_id, Result.codec, Result.rate_point, Result.reconstruction_path).where(
                Result.job_id == job_id
            )
        ).all()
        failures = session.scalar(select(func.count()).select_from(TaskFailure).where(TaskFailure.job_id == job_id))
        states = dict(
            session.execute(select(Task.state, func.count()).where(Task.job_id == job_id).group_by(Task.state)).all()
        )
    engine.dispose()
    assert len(rows) == total and len({r[:3] for r in rows}) == total  # every result, none twice
    assert failures == 0 and states == {"done": IMAGES * len(CODECS)}
    on_disk = {str(p.relative_to(stack.data_dir)) for p in (stack.data_dir / "reconstructions").rglob("*.png")}
    assert on_disk == {r[3] for r in rows}  # no orphan reconstruction file
    log = stack.worker_log.read_text()
    assert "database error" in log and "retry 1" in log, log[-3000:]  # the workers waited for the database
    print(
        f"\npostgres outage: {len(answers)} API answers during {OUTAGE_S:g} s, all 503 JSON; done before the stop "
        f"{before['progress']['done']}/{total}; job finished {finished_after:.1f} s after the restart; "
        f"{log.count('database error')} database-error retries logged by the worker"
    )


def _finished_job(stack, name: str) -> tuple[int, int]:
    with stack.client() as client:
        files = [
            ("files", (f"{name}{i}.png", png_bytes(random_photo(64, 96, seed=200 + i)), "image/png")) for i in range(2)
        ]
        upload = client.post("/api/v1/image-sets", data={"name": name}, files=files)
        created = client.post(
            "/api/v1/jobs",
            json={
                "image_set_id": upload.json()["id"],
                "metrics": ["psnr"],
                "codecs": [{"name": "jpeg", "rate_points": [30, 70]}],
            },
        )
        assert created.status_code == 202, created.text
    job = stack.wait_for_job(created.json()["id"], timeout=120)
    assert job["status"] == "succeeded", job
    return job["id"], job["progress"]["total"]


def _lose_one_task(stack, job_id: int, **task_values) -> int:
    """Put the job back to the moment one task's work was lost: its results gone, the task in ``task_values``."""
    from sqlalchemy import delete, update

    from app.db.tables import Job, Result, Task

    engine = create_engine(stack.env["DATABASE_URL"])
    with Session(engine) as session:
        task = session.scalars(select(Task).where(Task.job_id == job_id).order_by(Task.id)).first()
        lost = session.execute(
            delete(Result).where(Result.job_id == job_id, Result.image_id == task.image_id, Result.codec == task.codec)
        ).rowcount
        session.execute(update(Task).where(Task.id == task.id).values(**task_values))
        session.execute(
            update(Job).where(Job.id == job_id).values(status="running", finished_at=None, done=Job.done - lost)
        )
        session.commit()
        task_id = task.id
    engine.dispose()
    return task_id


def test_the_worker_sweep_requeues_a_task_whose_worker_vanished(outage_stack):
    from datetime import datetime, timedelta

    stack, _ = outage_stack
    job_id, total = _finished_job(stack, "vanished")
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    task_id = _lose_one_task(
        stack,
        job_id,
        state="running",
        attempts=1,
        worker="lost-host:4242",
        started_at=long_ago,
        heartbeat_at=long_ago,
        finished_at=None,
    )
    job = stack.wait_for_job(job_id, timeout=90)
    assert job["status"] == "succeeded" and job["progress"] == {"done": total, "total": total}, job
    with stack.client() as client:
        task = next(t for t in client.get(f"/api/v1/jobs/{job_id}/tasks").json() if t["id"] == task_id)
        assert task["state"] == "done" and task["attempts"] == 2 and task["worker"] != "lost-host:4242"
        assert len(client.get(f"/api/v1/jobs/{job_id}/results").json()) == total
    assert "re-queued" in stack.worker_log.read_text()


def test_the_worker_sweep_resends_a_queued_task_the_broker_lost(outage_stack):
    from datetime import datetime, timedelta

    stack, _ = outage_stack
    job_id, total = _finished_job(stack, "lost-message")
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    # queued with no message anywhere: what a Redis restart without persistence leaves behind
    task_id = _lose_one_task(
        stack,
        job_id,
        state="queued",
        attempts=0,
        worker=None,
        queued_at=long_ago,
        started_at=None,
        heartbeat_at=None,
        finished_at=None,
    )
    started = time.monotonic()
    job = stack.wait_for_job(job_id, timeout=90)
    assert job["status"] == "succeeded" and job["progress"] == {"done": total, "total": total}, job
    with stack.client() as client:
        task = next(t for t in client.get(f"/api/v1/jobs/{job_id}/tasks").json() if t["id"] == task_id)
        assert task["state"] == "done" and task["attempts"] == 1
    print(
        f"\nlost message sent again and the job finished {time.monotonic() - started:.1f} s later "
        f"(TASK_REDELIVERY_S=6, SWEEP_INTERVAL_S=2)"
    )
