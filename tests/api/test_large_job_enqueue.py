"""Issue 13: a large job is answered once it is committed, and its task messages are sent after the answer (the
request is not held while thousands of messages go to the broker); a small job's are sent before it."""

from __future__ import annotations

import pytest

from tests.support.images import png_bytes, random_photo


@pytest.fixture
def events(api, monkeypatch):
    """The order in which the answer's last byte and each task message leave the app; plus an in-order client."""
    from fastapi.testclient import TestClient

    from app.api.routes import jobs as job_routes
    from engine import queue

    seen: list[str] = []
    monkeypatch.setattr(job_routes, "ENQUEUE_IN_REQUEST_MAX", 3)
    monkeypatch.setattr(queue.celery_client(), "send_task", lambda *a, **k: seen.append("task sent"))

    async def noting(scope, receive, send):
        async def send_and_note(message):
            if message["type"] == "http.response.body" and not message.get("more_body") and scope["method"] == "POST":
                seen.append("answer sent")
            await send(message)

        await api.app(scope, receive, send_and_note)

    client = TestClient(noting)
    client.headers.update(api.headers)
    return seen, client


def _set_of(client, images: int) -> int:
    files = [("files", (f"{i}.png", png_bytes(random_photo(8, 8, seed=i)), "image/png")) for i in range(images)]
    made = client.post("/api/v1/image-sets", data={"name": "many"}, files=files)
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_a_large_jobs_messages_are_sent_after_its_answer(events):
    seen, client = events
    set_id = _set_of(client, 4)
    seen.clear()
    job = client.post("/api/v1/jobs", json={"image_set_id": set_id, "codecs": [{"name": "jpeg", "rate_points": [50]}]})
    assert job.status_code == 202, job.text
    assert seen == ["answer sent"] + ["task sent"] * 4  # 4 tasks > ENQUEUE_IN_REQUEST_MAX (3 here)
    tasks = client.get(f"/api/v1/jobs/{job.json()['id']}/tasks")
    assert tasks.status_code == 200 and all(t["state"] == "queued" for t in tasks.json())


def test_a_small_jobs_messages_are_sent_before_its_answer(events):
    seen, client = events
    set_id = _set_of(client, 2)
    seen.clear()
    job = client.post("/api/v1/jobs", json={"image_set_id": set_id, "codecs": [{"name": "jpeg", "rate_points": [50]}]})
    assert job.status_code == 202
    assert seen == ["task sent"] * 2 + ["answer sent"]


def test_a_large_job_with_the_broker_down_is_still_a_503(api, monkeypatch):
    from app.api.routes import jobs as job_routes
    from app.settings import get_settings
    from tests.support.servers import free_port

    monkeypatch.setattr(job_routes, "ENQUEUE_IN_REQUEST_MAX", 3)
    set_id = _set_of(api, 4)
    monkeypatch.setenv("BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    get_settings.cache_clear()
    answer = api.post("/api/v1/jobs", json={"image_set_id": set_id, "codecs": [{"name": "jpeg", "rate_points": [50]}]})
    assert answer.status_code == 503 and "task queue is unreachable" in answer.json()["detail"]
