"""The web side sends tasks by name through its own Celery client; it never imports the worker module."""

from __future__ import annotations

import subprocess
import sys

from tests.support.images import png_bytes, random_photo


def test_building_the_web_app_loads_no_worker_module():
    probe = (
        "import sys, app.main, engine.queue; "
        "print(sorted(m for m in sys.modules if m == 'workers' or m.startswith('workers.')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_a_created_job_sends_one_named_task_per_image_and_codec_to_the_cpu_queue(api, monkeypatch):
    from engine import queue

    sent = []
    client = queue.celery_client()
    versions = []
    monkeypatch.setattr(
        client,
        "send_task",
        lambda name, args, queue, producer, kwargs=None: (
            sent.append((name, args, queue)),
            versions.append((kwargs or {}).get("message_version")),
        ),
    )
    files = [("files", (f"{i}.png", png_bytes(random_photo(8, 8, seed=i)), "image/png")) for i in range(2)]
    image_set = api.post("/api/v1/image-sets", data={"name": "q"}, files=files).json()
    job = api.post(
        "/api/v1/jobs",
        json={
            "image_set_id": image_set["id"],
            "codecs": [{"name": "jpeg", "rate_points": [50, 10]}, {"name": "webp", "rate_points": [30, 60, 90]}],
        },
    )
    assert job.status_code == 202 and job.json()["status"] == "queued"
    job_id = job.json()["id"]
    # 2 images x 2 codecs = 4 tasks, each carrying all its codec's rate points...
    assert sorted(sent) == sorted(
        (queue.RUN_TASK, [job_id, image["id"], codec, points], queue.CPU_QUEUE)
        for image in image_set["images"]
        for codec, points in (("jpeg", [10.0, 50.0]), ("webp", [30.0, 60.0, 90.0]))
    )
    assert versions == [queue.MESSAGE_VERSION] * 4  # each message says its format (issue 32)
    # ...while progress still counts result rows: 2 images x 5 rate points.
    assert api.get(f"/api/v1/jobs/{job_id}").json()["progress"] == {"done": 0, "total": 10}


def test_the_job_page_takes_its_active_statuses_from_the_server(api):
    image_set = api.post(
        "/api/v1/image-sets",
        data={"name": "p"},
        files=[("files", ("a.png", png_bytes(random_photo(8, 8)), "image/png"))],
    ).json()
    job_id = api.post(
        "/api/v1/jobs", json={"image_set_id": image_set["id"], "codecs": [{"name": "jpeg", "rate_points": [10]}]}
    ).json()["id"]
    page = api.get(f"/jobs/{job_id}").text
    assert 'window.LICBENCH_ACTIVE_STATUSES = ["queued", "running"];' in page
    assert '<button id="cancel-job" >Cancel</button>' in page  # visible while queued
    api.post(f"/api/v1/jobs/{job_id}/cancel")
    assert '<button id="cancel-job" hidden>' in api.get(f"/jobs/{job_id}").text


def test_health_is_503_degraded_when_the_broker_does_not_answer(api, monkeypatch):
    from app.settings import get_settings
    from tests.support.servers import free_port

    monkeypatch.setenv("BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    get_settings.cache_clear()
    response = api.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["database"] == "ok" and body["broker"].startswith("error: ")


def test_each_codecs_cheapest_task_is_sent_first_then_longest_first(api, monkeypatch):
    """Every codec's curve on one image early (the RD plot and a BD-rate show it), then the rest longest first;
    the messages follow the task order (which task a message runs is decided by the worker, fairly)."""
    from engine import queue

    sent = []
    client = queue.celery_client()
    monkeypatch.setattr(client, "send_task", lambda name, args, queue, producer, kwargs=None: sent.append(args[2]))
    files = [("files", (f"{i}.png", png_bytes(random_photo(64, 64, seed=i)), "image/png")) for i in range(2)]
    image_set = api.post("/api/v1/image-sets", data={"name": "order"}, files=files).json()
    job = api.post(
        "/api/v1/jobs",
        json={
            "image_set_id": image_set["id"],
            "codecs": [{"name": "jpeg", "rate_points": [50]}, {"name": "tiny-hyperprior", "rate_points": [1, 2]}],
        },
    )
    assert job.status_code == 202, job.text
    assert sent == ["jpeg", "tiny-hyperprior", "tiny-hyperprior", "jpeg"]
