"""Issue 13: a task that meets a database error retries with back-off instead of being dropped or recording the
error as a failure; no reconstruction file outlives an uncommitted row; a committed row whose file was removed
runs again; the soft time limit records the reason for the rate points still missing."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from tests.support.images import png_bytes, random_photo

POINTS = (20.0, 50.0, 80.0)


@pytest.fixture
def job(api):
    image_set = api.post(
        "/api/v1/image-sets",
        data={"name": "db faults"},
        files=[("files", ("a.png", png_bytes(random_photo(48, 64, seed=4)), "image/png"))],
    ).json()
    job_id = api.post(
        "/api/v1/jobs",
        json={
            "image_set_id": image_set["id"],
            "metrics": ["psnr"],
            "codecs": [{"name": "jpeg", "rate_points": list(POINTS)}],
        },
    ).json()["id"]
    return job_id, image_set["images"][0]["id"]


def _lost_connection() -> OperationalError:
    return OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))


def _run(job, sleeps, **kwargs):
    from app.db.session import session_factory
    from app.services.jobs import jobs
    from app.services.storage import default_storage
    from engine import benchmark

    return benchmark.run_task_retrying(
        session_factory(),
        default_storage(),
        jobs.TaskSpec(job[0], job[1], "jpeg", POINTS),
        sleep=sleeps.append,
        **kwargs,
    )


def _files(settings_env) -> set[str]:
    root = settings_env / "reconstructions"
    return {str(p.relative_to(settings_env)) for p in root.rglob("*.png")} if root.exists() else set()


def _stored_paths(job_id: int) -> set[str]:
    from sqlalchemy import select

    from app.db.session import session_factory
    from app.db.tables import Result

    with session_factory()() as session:
        return set(session.scalars(select(Result.reconstruction_path).where(Result.job_id == job_id)))


def _state(api, job):
    body = api.get(f"/api/v1/jobs/{job[0]}").json()
    rows = api.get(f"/api/v1/jobs/{job[0]}/results").json()
    task = api.get(f"/api/v1/jobs/{job[0]}/tasks").json()[0]
    return body, rows, task


def test_a_database_error_while_storing_is_retried_and_leaves_no_orphan_file(api, job, settings_env, monkeypatch):
    from app.db.enums import TaskOutcome
    from engine import task_state
    from engine.contract import TaskSpec

    add_progress, calls = task_state.add_progress, []

    def failing_twice(session, job_id, n):  # the database drops the connection on the first two stores
        calls.append(n)
        if len(calls) <= 2:
            raise _lost_connection()
        return add_progress(session, job_id, n)

    monkeypatch.setattr(task_state, "add_progress", failing_twice)
    seen_files = []
    sleeps: list[float] = []
    sleeps_append = sleeps.append

    def sleeping(delay):  # while "the database is down", no reconstruction file is left behind
        seen_files.append(_files(settings_env))
        sleeps_append(delay)

    from app.db.session import session_factory
    from app.services.storage import default_storage
    from engine import benchmark

    outcome = benchmark.run_task_retrying(
        session_factory(), default_storage(), TaskSpec(job[0], job[1], "jpeg", POINTS), sleep=sleeping, max_delay_s=4
    )
    assert outcome == TaskOutcome.STORED
    assert seen_files == [set(), set()]  # the PNG of each uncommitted row was removed
    assert len(sleeps) == 2 and 0.4 <= sleeps[0] <= 0.5 and 0.8 <= sleeps[1] <= 1.0  # exponential back-off
    body, rows, task = _state(api, job)
    assert body["status"] == "succeeded" and body["progress"] == {"done": 3, "total": 3} and body["error"] is None
    assert sorted(r["rate_point"] for r in rows) == [20, 50, 80]
    assert task["state"] == "done" and task["attempts"] == 1  # its own retries count no new attempt
    assert _files(settings_env) == _stored_paths(job[0]) and len(_stored_paths(job[0])) == len(rows)


def test_a_row_committed_while_the_connection_died_runs_again_when_its_file_is_gone(
    api, job, settings_env, monkeypatch
):
    from sqlalchemy.orm import Session

    from engine import task_state

    commit, add_progress, armed = Session.commit, task_state.add_progress, []

    def counting(session, job_id, n):
        armed.append(True)
        return add_progress(session, job_id, n)

    def commit_then_lose_the_answer(self):
        commit(self)
        if len(armed) == 1:  # the first result row is committed, but the worker sees an error
            armed.append(True)
            raise _lost_connection()

    monkeypatch.setattr(task_state, "add_progress", counting)
    monkeypatch.setattr(Session, "commit", commit_then_lose_the_answer)
    sleeps: list[float] = []
    _run(job, sleeps)
    body, rows, task = _state(api, job)
    assert len(sleeps) == 1 and body["status"] == "succeeded" and body["progress"] == {"done": 3, "total": 3}
    assert sorted(r["rate_point"] for r in rows) == [20, 50, 80]  # rate point 20 was stored again, once
    assert _files(settings_env) == _stored_paths(job[0]) and len(_stored_paths(job[0])) == len(rows)
    for row in rows:
        assert api.get(f"/api/v1/results/{row['id']}/reconstruction").status_code == 200


def test_the_soft_time_limit_fails_the_rate_points_still_missing_with_the_reason(api, job, settings_env, monkeypatch):
    from app.db.enums import TaskOutcome
    from engine import benchmark

    class SoftLimit(Exception):
        pass

    measure = benchmark.measure

    def slow_at_50(codec, image, rate_point):
        if rate_point == 50:
            raise SoftLimit()
        return measure(codec, image, rate_point)

    monkeypatch.setattr(benchmark, "measure", slow_at_50)
    outcome = _run(job, [], abort_on=(SoftLimit,), abort_reason="soft time limit of 9 s exceeded")
    assert outcome == TaskOutcome.FAILED
    body, rows, task = _state(api, job)
    assert [r["rate_point"] for r in rows] == [20]
    assert body["status"] == "failed" and body["progress"] == {"done": 3, "total": 3}
    assert "2 of 3 tasks failed (1 results kept)" in body["error"] and "soft time limit of 9 s" in body["error"]
    assert task["state"] == "failed" and "soft time limit of 9 s" in task["error"]
    assert _files(settings_env) == _stored_paths(job[0]) and len(_stored_paths(job[0])) == 1
