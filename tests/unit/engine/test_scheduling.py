"""Jobs share the workers: a message's turn goes to the job with fewest tasks running; a job's tasks run each
codec's cheapest first, then longest first; cancelling a job cancels its queued tasks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.images import png_bytes, random_photo


def _job(api, name: str, codecs: dict[str, list], sizes=((48, 64),)) -> tuple[int, list[int]]:
    files = [
        ("files", (f"{i}.png", png_bytes(random_photo(h, w, seed=i)), "image/png")) for i, (h, w) in enumerate(sizes)
    ]
    image_set = api.post("/api/v1/image-sets", data={"name": name}, files=files).json()
    body = api.post(
        "/api/v1/jobs",
        json={
            "image_set_id": image_set["id"],
            "metrics": ["psnr"],
            "codecs": [{"name": n, "rate_points": p} for n, p in codecs.items()],
        },
    ).json()
    return body["id"], [image["id"] for image in image_set["images"]]


def _tasks(api, job_id: int) -> list[dict]:
    return api.get(f"/api/v1/jobs/{job_id}/tasks").json()


def _spec(task: dict):
    from engine.contract import TaskSpec

    return TaskSpec(task["job_id"], task["image_id"], task["codec"], tuple(task["rate_points"]))


def _claim(task: dict, worker: str = "host:1"):
    from app.db.session import session_factory
    from engine import task_state

    with session_factory()() as session:
        return task_state.claim(session, _spec(task), worker, datetime.now(UTC), 3)


def _choose(message: dict):
    from app.db.session import session_factory
    from engine.scheduling import QueueScope, choose

    with session_factory()() as session:
        return choose(session, _spec(message), QueueScope(frozenset({"jpeg", "webp", "avif"}), "cpu"), "me:1", 30.0)


@pytest.fixture
def big_and_small(api):
    """A big job (three images) with one task running, and a small job queued after it."""
    big, _ = _job(api, "big", {"jpeg": [30, 60]}, sizes=((48, 64), (40, 56), (32, 48)))
    small, _ = _job(api, "small", {"jpeg": [50]})
    big_tasks = _tasks(api, big)
    assert _claim(big_tasks[0]).task_id is not None
    return big_tasks, _tasks(api, small)


def test_a_big_jobs_next_message_runs_the_small_jobs_task_first(big_and_small):
    big_tasks, small_tasks = big_and_small
    chosen, swapped = _choose(big_tasks[1])
    assert swapped and chosen == _spec(small_tasks[0])


def test_the_turn_alternates_once_both_jobs_run_a_task(big_and_small):
    big_tasks, small_tasks = big_and_small
    _claim(small_tasks[0], worker="host:2")
    # the small job has nothing queued now: the big job's own message runs its own task
    assert _choose(big_tasks[1]) == (_spec(big_tasks[1]), False)


def test_a_message_whose_task_ran_in_another_turn_runs_the_next_fair_task(big_and_small):
    big_tasks, small_tasks = big_and_small
    _claim(small_tasks[0], worker="host:2")
    _finish(small_tasks[0])
    chosen, swapped = _choose(small_tasks[0])  # the small job's own message arrives after its task finished
    assert swapped and chosen == _spec(big_tasks[1])


def test_a_redelivered_message_keeps_its_task_when_the_process_that_ran_it_is_gone(api):
    import socket

    job_id, _ = _job(api, "redelivered", {"jpeg": [30, 60]}, sizes=((48, 64), (40, 56)))
    tasks = _tasks(api, job_id)
    _claim(tasks[0], worker=f"{socket.gethostname()}:{2**22 + 12345}")  # a pid no process has
    assert _choose(tasks[0]) == (_spec(tasks[0]), False)


def test_a_message_whose_task_runs_in_a_live_process_takes_the_next_task_not_the_same(big_and_small):
    big_tasks, small_tasks = big_and_small  # big_tasks[0] runs on host:1, heartbeat fresh
    assert _choose(big_tasks[0]) == (_spec(small_tasks[0]), True)
    _claim(small_tasks[0], worker="host:2")
    _claim(big_tasks[1], worker="host:3")
    _claim(big_tasks[2], worker="host:4")
    assert _choose(big_tasks[0]) == (None, False)  # nothing queued: acknowledged, never run twice


def test_a_swapped_turn_runs_the_other_jobs_task_to_the_end(api, big_and_small):
    from app.db.enums import TaskOutcome
    from app.db.session import session_factory
    from app.services.storage import default_storage
    from engine import benchmark

    big_tasks, small_tasks = big_and_small
    outcome = benchmark.run_task(session_factory(), default_storage(), _spec(big_tasks[1]))
    assert outcome == TaskOutcome.STORED
    assert api.get(f"/api/v1/jobs/{small_tasks[0]['job_id']}").json()["status"] == "succeeded"
    assert [t["state"] for t in _tasks(api, big_tasks[0]["job_id"])] == ["running", "queued", "queued"]


def _finish(task: dict) -> None:
    from sqlalchemy import update

    from app.db.session import session_factory
    from app.db.tables import Task

    with session_factory()() as session:
        session.execute(update(Task).where(Task.id == task["id"]).values(state="done"))
        session.commit()


def test_a_jobs_tasks_are_numbered_each_codec_once_then_longest_first(api):
    job_id, images = _job(api, "costs", {"avif": [30], "jpeg": [30, 60]}, sizes=((64, 96), (48, 64), (56, 80)))
    order = [(t["codec"], t["image_id"]) for t in _tasks(api, job_id)]
    # each codec's cheapest task (the smallest image) first, jpeg before the costlier avif; then the rest longest
    # first: avif before jpeg (jpeg's two rate points cost less than one avif rate point), the larger image first
    assert order == [
        ("jpeg", images[1]),
        ("avif", images[1]),
        ("avif", images[0]),
        ("avif", images[2]),
        ("jpeg", images[0]),
        ("jpeg", images[2]),
    ]


def test_cancelling_a_job_cancels_its_queued_tasks_and_stops_the_running_one(api):
    from app.db.session import session_factory
    from engine import task_state

    job_id, _ = _job(api, "cancel", {"jpeg": [30, 60]}, sizes=((48, 64), (40, 56)))
    running = _tasks(api, job_id)[0]
    claim = _claim(running)
    assert api.post(f"/api/v1/jobs/{job_id}/cancel").json()["status"] == "cancelled"
    assert [t["state"] for t in _tasks(api, job_id)] == ["running", "cancelled"]
    assert api.get(f"/api/v1/jobs/{job_id}/tasks", params={"state": "cancelled"}).headers["X-Total-Count"] == "1"
    with session_factory()() as session:  # the worker stops before its next rate point and finishes the task
        assert task_state.finish(session, claim.task_id, datetime.now(UTC)) == "cancelled"
        session.commit()
    assert [t["state"] for t in _tasks(api, job_id)] == ["cancelled", "cancelled"]


def test_the_tasks_api_shows_progress_inside_a_task(api):
    from app.db.session import session_factory
    from app.services.storage import default_storage
    from engine import benchmark

    job_id, _ = _job(api, "progress", {"jpeg": [30, 60]})
    task = _tasks(api, job_id)[0]
    assert task["rate_points_done"] == 0
    benchmark.run_task(session_factory(), default_storage(), _spec(task))
    assert _tasks(api, job_id)[0]["rate_points_done"] == 2
