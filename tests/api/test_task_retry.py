"""Issue 13: failed tasks can be retried through the API (owner or admin), their failures are deleted and their rate
points run again; the job lists its tasks with their states; the job page offers the retry button."""

from __future__ import annotations

import pytest

from tests.support.accounts import ANONYMOUS, make_user
from tests.support.benchmarks import fail_jpeg_at
from tests.support.images import png_bytes, random_photo


@pytest.fixture
def failed_job(api, monkeypatch):
    """A job whose only task failed at rate point 50 (20 stored); returns (job id, image id, undo)."""
    from app.db.session import session_factory
    from app.services.jobs import jobs
    from app.services.storage import default_storage
    from engine import benchmark

    image_set = api.post(
        "/api/v1/image-sets",
        data={"name": "retry"},
        files=[("files", ("a.png", png_bytes(random_photo(48, 64, seed=9)), "image/png"))],
    ).json()
    image_id = image_set["images"][0]["id"]
    job_id = api.post(
        "/api/v1/jobs",
        json={
            "image_set_id": image_set["id"],
            "metrics": ["psnr"],
            "codecs": [{"name": "jpeg", "rate_points": [20, 50]}],
        },
    ).json()["id"]
    with monkeypatch.context() as patch:
        fail_jpeg_at(patch, 50)
        benchmark.run_task(session_factory(), default_storage(), jobs.TaskSpec(job_id, image_id, "jpeg", (20, 50)))
    return job_id, image_id


def test_failed_tasks_are_listed_retried_and_then_succeed(api, failed_job):
    from app.db.session import session_factory
    from app.services.jobs import jobs
    from app.services.storage import default_storage
    from engine import benchmark

    job_id, image_id = failed_job
    assert api.get(f"/api/v1/jobs/{job_id}").json()["status"] == "failed"
    tasks = api.get(f"/api/v1/jobs/{job_id}/tasks?state=failed").json()
    assert len(tasks) == 1 and tasks[0]["attempts"] == 1 and "encoder crashed at 50" in tasks[0]["error"]
    assert tasks[0]["worker"] and tasks[0]["started_at"] and tasks[0]["finished_at"]

    answer = api.post(f"/api/v1/jobs/{job_id}/retry")
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"job_id": job_id, "requeued": 1, "sent": 1, "detail": None}
    job = api.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "running" and job["error"] is None and job["progress"] == {"done": 1, "total": 2}
    task = api.get(f"/api/v1/jobs/{job_id}/tasks").json()[0]
    assert (task["state"], task["attempts"], task["error"]) == ("queued", 0, None)

    # what the worker does with the message that was sent: only rate point 50 runs again
    benchmark.run_task(session_factory(), default_storage(), jobs.TaskSpec(job_id, image_id, "jpeg", (20, 50)))
    job = api.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded" and job["progress"] == {"done": 2, "total": 2}
    assert sorted(r["rate_point"] for r in api.get(f"/api/v1/jobs/{job_id}/results").json()) == [20, 50]
    assert api.get(f"/api/v1/jobs/{job_id}/tasks").json()[0]["state"] == "done"

    again = api.post(f"/api/v1/jobs/{job_id}/retry")
    assert again.status_code == 409 and "no failed tasks" in again.json()["detail"]


def test_only_the_owner_or_an_admin_may_retry(api, failed_job):
    job_id = failed_job[0]
    assert api.post(f"/api/v1/jobs/{job_id}/retry", headers=ANONYMOUS).status_code == 401
    stranger = api.post(f"/api/v1/jobs/{job_id}/retry", headers=make_user("mallory").headers)
    assert stranger.status_code in (403, 404)  # a private set's job is not even visible to a stranger
    admin = api.post(f"/api/v1/jobs/{job_id}/retry", headers=make_user("root", role="admin").headers)
    assert admin.status_code == 202 and admin.json()["requeued"] == 1
    assert api.post("/api/v1/jobs/999999/retry").status_code == 404
    assert api.get("/api/v1/jobs/999999/tasks").status_code == 404


def test_a_cancelled_job_is_not_retried(api, failed_job):
    from app.db.session import session_factory
    from app.db.tables import Job

    with session_factory()() as session:
        session.get(Job, failed_job[0]).status = "cancelled"
        session.commit()
    answer = api.post(f"/api/v1/jobs/{failed_job[0]}/retry")
    assert answer.status_code == 409 and "cancelled" in answer.json()["detail"]


def test_the_job_page_offers_the_retry_button_and_the_cookie_session_needs_its_csrf_token(api, failed_job):
    import re

    from fastapi.testclient import TestClient

    account = make_user("tester")
    browser = TestClient(api.app)  # cookies only, like the page's script
    form = browser.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    login = browser.post(
        "/login",
        data={"name": account.name, "password": account.password, "csrf_token": csrf, "next": "/jobs"},
        follow_redirects=False,
    )
    assert login.status_code == 303, login.text
    page = browser.get(f"/jobs/{failed_job[0]}")
    assert page.status_code == 200 and 'id="retry-job"' in page.text and "Retry failed tasks" in page.text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)
    assert browser.post(f"/api/v1/jobs/{failed_job[0]}/retry").status_code == 403  # no X-CSRF-Token
    answer = browser.post(f"/api/v1/jobs/{failed_job[0]}/retry", headers={"X-CSRF-Token": token})
    assert answer.status_code == 202 and answer.json()["requeued"] == 1
    page = browser.get(f"/jobs/{failed_job[0]}")
    assert re.search(r'<button id="retry-job" hidden', page.text)  # running again: nothing failed to retry
