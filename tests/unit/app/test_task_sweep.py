"""The task state table and the sweep (issue 13), on a fake clock: a running task whose worker stopped
heartbeating is re-queued and sent again, one past its attempt limit is failed with the reason (the job finishes
and says why), one past the hard time limit is re-queued, queued tasks are sent again only when the queue looks
lost, and a second sweep over the same state changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.images import png_bytes, random_photo

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def job(api):
    """A queued job over one small photo: one jpeg task with two rate points."""
    image_set = api.post(
        "/api/v1/image-sets",
        data={"name": "sweep"},
        files=[("files", ("a.png", png_bytes(random_photo(48, 64, seed=3)), "image/png"))],
    ).json()
    body = api.post(
        "/api/v1/jobs",
        json={
            "image_set_id": image_set["id"],
            "metrics": ["psnr"],
            "codecs": [{"name": "jpeg", "rate_points": [30, 60]}],
        },
    ).json()
    return body["id"], image_set["images"][0]["id"]


@pytest.fixture
def settings(api):
    from app.settings import get_settings

    return get_settings().model_copy(
        update={"task_stale_s": 60, "task_redelivery_s": 120, "task_max_attempts": 3, "task_hard_time_limit_s": 600}
    )


class Sent:
    """A fake broker: records what the sweep sends."""

    def __init__(self) -> None:
        self.specs = []

    def __call__(self, _session, specs) -> int:
        self.specs += list(specs)
        return len(specs)


def _session():
    from app.db.session import session_factory

    return session_factory()()


def _task(job_id: int):
    from sqlalchemy import select

    from app.db.tables import Task

    with _session() as session:
        return session.scalars(select(Task).where(Task.job_id == job_id)).one()


def _claim(job, worker: str, now: datetime):
    from app.services.jobs import jobs
    from engine import task_state

    with _session() as session:
        return task_state.claim(session, jobs.TaskSpec(job[0], job[1], "jpeg", (30, 60)), worker, now, 3)


def _sweep(settings, now: datetime, sent: Sent):
    from engine import task_state

    with _session() as session:
        return task_state.sweep(session, now, settings, send=sent)


def _alive_worker(now: datetime, queues: str = "cpu") -> None:
    from app.db.tables import WorkerHeartbeat

    with _session() as session:
        session.merge(WorkerHeartbeat(id="host:1", queues=queues, started_at=now, beat_at=now))
        session.commit()


def test_submitting_a_job_writes_one_queued_task_row_per_image_and_codec(api, job):
    task = _task(job[0])
    assert (task.state, task.attempts, task.worker, task.rate_points) == ("queued", 0, None, [30.0, 60.0])
    listed = api.get(f"/api/v1/jobs/{job[0]}/tasks")
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "1"
    assert listed.json()[0]["state"] == "queued" and listed.json()[0]["rate_points"] == [30, 60]
    assert api.get(f"/api/v1/jobs/{job[0]}/tasks?state=running").json() == []
    assert api.get(f"/api/v1/jobs/{job[0]}/tasks?state=bogus").status_code == 422


def test_a_running_task_whose_worker_vanished_is_requeued_and_sent_again(job, settings):
    _claim(job, "gone:42", T0)
    sent = Sent()
    fresh = _sweep(settings, T0 + timedelta(seconds=30), sent)  # heartbeat 30 s old: still alive
    assert fresh.requeued == [] and sent.specs == []

    report = _sweep(settings, T0 + timedelta(seconds=61), sent)
    task = _task(job[0])
    assert report.requeued == [task.id] and report.failed == {}
    assert [(s.job_id, s.image_id, s.codec, s.rate_points) for s in sent.specs] == [
        (job[0], job[1], "jpeg", (30.0, 60.0))
    ]
    assert (task.state, task.attempts, task.worker) == ("queued", 1, None)
    assert "worker gone:42 stopped heartbeating (last beat 61 s ago)" in task.error
    again = _sweep(settings, T0 + timedelta(seconds=61), sent)  # a second sweeper over the same state
    assert again.requeued == [] and len(sent.specs) == 1


def test_a_task_past_its_attempt_limit_is_failed_with_the_reason_and_the_job_finishes(api, job, settings):
    sent = Sent()
    now = T0
    for attempt in range(3):
        _claim(job, f"gone:{attempt}", now)
        now += timedelta(seconds=61)
        report = _sweep(settings, now, sent)
    task = _task(job[0])
    assert task.attempts == 3 and task.state == "failed" and len(sent.specs) == 2
    assert report.failed == {task.id: task.error}
    assert "worker gone:2 stopped heartbeating" in task.error and "gave up after 3 attempts" in task.error
    body = api.get(f"/api/v1/jobs/{job[0]}").json()
    assert body["status"] == "failed" and body["progress"] == {"done": 2, "total": 2}
    assert "2 of 2 tasks failed (0 results kept)" in body["error"] and "gave up after 3 attempts" in body["error"]


def test_a_message_that_keeps_losing_its_worker_is_failed_at_the_next_claim(api, job):
    from app.services.jobs import jobs
    from engine import task_state

    for attempt in range(3):  # the broker redelivers after each lost worker, without any sweep
        assert _claim(job, f"w:{attempt}", T0).task_id is not None
    with _session() as session:
        claim = task_state.claim(session, jobs.TaskSpec(job[0], job[1], "jpeg", (30, 60)), "w:3", T0, 3)
    assert claim == task_state.Claim(None, "exhausted")
    assert "gave up after 3 attempts" in _task(job[0]).error
    assert api.get(f"/api/v1/jobs/{job[0]}").json()["status"] == "failed"


def test_the_same_worker_claiming_again_counts_no_new_attempt(job):
    _claim(job, "me:1", T0)
    _claim(job, "me:1", T0 + timedelta(seconds=5))  # its own database retry
    assert _task(job[0]).attempts == 1


def test_a_task_running_past_the_hard_time_limit_is_requeued(job, settings):
    from app.db.tables import Task
    from engine import task_state

    _claim(job, "slow:7", T0)
    later = T0 + timedelta(seconds=600 + task_state.HARD_LIMIT_GRACE_S + 1)
    with _session() as session:  # its heartbeat is fresh: the worker is alive but the task hangs
        task_state.beat(session, _task(job[0]).id, later)
        session.commit()
    report = _sweep(settings, later, Sent())
    assert report.requeued == [_task(job[0]).id]
    assert "past the hard time limit of 600 s" in _task(job[0]).error
    assert Task  # the row type the sweep reads


def test_queued_tasks_are_sent_again_only_when_the_queue_looks_lost(job, settings):
    sent = Sent()
    late = datetime.now(UTC) + timedelta(seconds=121)  # the job was queued just now (real clock)
    assert _sweep(settings, late, sent).resent == []  # no live worker: sending again would only pile up
    _alive_worker(late, queues="gpu")
    assert _sweep(settings, late, sent).resent == []  # nobody consumes jpeg's queue (cpu)
    _alive_worker(late)
    report = _sweep(settings, late, sent)
    assert report.resent == [_task(job[0]).id] and len(sent.specs) == 1
    assert _sweep(settings, late, sent).resent == []  # just sent: waits another window
    _alive_worker(late + timedelta(seconds=200))
    _claim(job, "busy:1", late + timedelta(seconds=190))  # a worker is busy: queued tasks wait behind it
    assert _sweep(settings, late + timedelta(seconds=200), sent).resent == []


def test_a_cancelled_job_is_left_alone(api, job, settings):
    _claim(job, "gone:1", T0)
    assert api.post(f"/api/v1/jobs/{job[0]}/cancel").status_code == 200
    report = _sweep(settings, T0 + timedelta(seconds=3600), Sent())
    assert report.requeued == [] and report.failed == {} and _task(job[0]).state == "running"


def test_the_sweep_survives_a_broker_that_refuses(job, settings):
    def refusing(_session, _specs):
        raise ConnectionError("broker down")

    _claim(job, "gone:1", T0)
    with _session() as session:
        from engine import task_state

        report = task_state.sweep(session, T0 + timedelta(seconds=61), settings, send=refusing)
    assert report.requeued and "broker down" in report.send_error
    assert _task(job[0]).state == "queued"  # a later sweep sends it when the queue looks lost


def test_a_task_killed_at_the_hard_time_limit_says_so(job, settings):
    from engine import task_state

    _claim(job, "host:9", T0)
    with _session() as session:  # it heartbeat until the hard limit killed its process
        task_state.beat(session, _task(job[0]).id, T0 + timedelta(seconds=595))
        session.commit()
    _sweep(settings, T0 + timedelta(seconds=657), Sent())  # stale, but not yet past the limit plus grace
    error = _task(job[0]).error
    assert "stopped heartbeating" in error and "killed at the hard time limit of 600 s" in error


def test_a_queued_task_whose_message_is_missing_is_sent_again_while_other_work_runs(api, job, settings):
    """A message is a turn: fewer messages waiting than queued tasks means some are lost, even while workers are
    busy (the case the lost-queue rule never sees: the soak's unfinished jobs)."""
    from engine import task_state

    image_set_id = api.get(f"/api/v1/jobs/{job[0]}").json()["image_set_id"]
    other = api.post(
        "/api/v1/jobs",
        json={"image_set_id": image_set_id, "metrics": ["psnr"], "codecs": [{"name": "jpeg", "rate_points": [30, 60]}]},
    ).json()["id"]
    late = datetime.now(UTC) + timedelta(seconds=121)
    _alive_worker(late)
    _claim((other, job[1]), "busy:1", late)  # another job's task runs: the queue does not look lost

    def sweep_with(waiting_count: int | None, now: datetime, sent: Sent):
        with _session() as session:
            return task_state.sweep(session, now, settings, send=sent, waiting=lambda _queue: waiting_count)

    sent = Sent()
    assert sweep_with(1, late, sent).resent == []  # its message waits
    assert sweep_with(None, late, sent).resent == []  # the broker cannot say: left alone
    soon = datetime.now(UTC) + timedelta(seconds=settings.sweep_interval_s / 2)
    assert sweep_with(0, soon, sent).resent == []  # queued too recently: its message may be on its way
    report = sweep_with(0, late, sent)
    assert report.resent == [_task(job[0]).id] and [s.job_id for s in sent.specs] == [job[0]]
    assert sweep_with(0, late + timedelta(seconds=5), sent).resent == []  # just sent: waits a sweep interval
