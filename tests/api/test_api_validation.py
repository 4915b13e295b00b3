"""Bad requests get a 4xx with a JSON message naming the problem, and store nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.images import png_bytes, random_photo

GOOD = png_bytes(random_photo(64, 80))


def _upload(api, files, name="set"):
    return api.post(
        "/api/v1/image-sets",
        data={"name": name},
        files=[("files", (fn, data, "application/octet-stream")) for fn, data in files],
    )


def _stored_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "images").rglob("*") if p.is_file()) if (data_dir / "images").exists() else []


def test_health_reports_database_and_broker(api):
    body = api.get("/api/v1/health").json()
    assert {k: body[k] for k in ("status", "database", "broker")} == {"status": "ok", "database": "ok", "broker": "ok"}
    assert body["workers"]["alive"] is False  # no worker in-process: reported, not a 503 (issue 12)


def test_upload_returns_the_image_set(api):
    response = _upload(api, [("a.png", GOOD), ("b.png", png_bytes(random_photo(30, 20, seed=2)))])
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "set"
    assert [(i["filename"], i["width"], i["height"]) for i in body["images"]] == [("a.png", 80, 64), ("b.png", 20, 30)]


@pytest.mark.parametrize(
    "files, status, message",
    [
        ([("empty.png", b"")], 422, "empty"),
        ([("notes.txt", b"just text")], 422, "not an image"),
        ([("ok.png", GOOD), ("cut.png", GOOD[: len(GOOD) // 2])], 422, "truncated"),
    ],
)
def test_bad_uploads_are_rejected_and_nothing_is_stored(api, settings_env, files, status, message):
    response = _upload(api, files)
    assert response.status_code == status
    assert message in response.json()["detail"]
    assert api.get("/api/v1/image-sets").json() == []
    assert _stored_files(settings_env) == []


def test_upload_without_files_is_rejected(api):
    response = api.post("/api/v1/image-sets", data={"name": "x"})
    assert response.status_code == 422
    assert "files" in response.json()["detail"]


def test_decompression_bomb_is_rejected(api, monkeypatch):
    monkeypatch.setenv("MAX_IMAGE_PIXELS", "1000")
    from app.settings import get_settings

    get_settings.cache_clear()
    response = _upload(api, [("big.png", GOOD)])
    assert response.status_code == 413 and "decompression-bomb" in response.json()["detail"]


def test_upload_over_the_size_limit_is_rejected(api, monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_BYTES", str(len(GOOD) - 1))
    from app.settings import get_settings

    get_settings.cache_clear()
    response = _upload(api, [("a.png", GOOD)])
    assert response.status_code == 413 and "upload limit" in response.json()["detail"]


def test_codecs_and_metrics_are_listed_with_availability(api):
    codecs = {c["name"]: c for c in api.get("/api/v1/codecs").json()}
    assert codecs["jpeg"]["available"] and codecs["jpeg"]["kind"] == "classical"
    assert set(codecs["jpeg"]) >= {"name", "kind", "rate_points", "available", "reason"}
    metrics = {m["name"]: m for m in api.get("/api/v1/metrics").json()}
    assert metrics["psnr"]["higher_is_better"] and metrics["psnr"]["available"]
    assert "100" in metrics["psnr"]["description"]  # the identical-image cap is documented


@pytest.fixture
def image_set_id(api) -> int:
    return _upload(api, [("a.png", GOOD)]).json()["id"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"codecs": [{"name": "nope", "rate_points": [1]}]}, "unknown codec 'nope'"),
        ({"codecs": [{"name": "jpeg", "rate_points": [200]}]}, "out of range"),
        ({"codecs": [{"name": "jpeg", "rate_points": [50]}], "metrics": ["nope"]}, "unknown metric 'nope'"),
        ({"codecs": []}, "at least one codec"),
        ({"codecs": [{"name": "jpeg", "rate_points": []}]}, "non-empty"),
    ],
)
def test_bad_job_requests_are_rejected_and_store_nothing(api, image_set_id, body, message):
    response = api.post("/api/v1/jobs", json={"image_set_id": image_set_id, **body})
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert api.get("/api/v1/jobs").json() == []


def test_job_on_a_missing_image_set_is_rejected(api):
    response = api.post("/api/v1/jobs", json={"image_set_id": 999, "codecs": [{"name": "jpeg"}]})
    assert response.status_code == 422 and "999" in response.json()["detail"]


def test_malformed_job_body_names_the_field(api):
    response = api.post("/api/v1/jobs", json={"codecs": [{"name": "jpeg"}]})
    assert response.status_code == 422 and "image_set_id" in response.json()["detail"]


def test_missing_job_and_result_give_404(api):
    assert api.get("/api/v1/jobs/42").status_code == 404
    assert "42" in api.get("/api/v1/jobs/42").json()["detail"]
    assert api.get("/api/v1/results/42/reconstruction").status_code == 404


def test_job_is_queued_with_progress_counting_one_result_per_image_codec_rate_point(api, image_set_id):
    response = api.post(
        "/api/v1/jobs", json={"image_set_id": image_set_id, "codecs": [{"name": "jpeg", "rate_points": [10, 50, 50]}]}
    )
    assert response.status_code == 202
    job = api.get(f"/api/v1/jobs/{response.json()['id']}").json()
    assert job["status"] == "queued" and job["progress"] == {"done": 0, "total": 2}
    assert job["metrics"] == ["psnr", "ms-ssim"]


def test_a_queued_job_can_be_cancelled_once(api, image_set_id):
    job_id = api.post(
        "/api/v1/jobs", json={"image_set_id": image_set_id, "codecs": [{"name": "jpeg", "rate_points": [10]}]}
    ).json()["id"]
    cancelled = api.post(f"/api/v1/jobs/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.post(f"/api/v1/jobs/{job_id}/cancel")
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]


def test_a_cancelled_job_runs_no_more_tasks(api, image_set_id):
    from app.db.enums import TaskOutcome
    from app.db.session import session_factory
    from app.services.jobs import jobs
    from app.services.storage import default_storage
    from engine import benchmark

    job_id = api.post(
        "/api/v1/jobs", json={"image_set_id": image_set_id, "codecs": [{"name": "jpeg", "rate_points": [10]}]}
    ).json()["id"]
    api.post(f"/api/v1/jobs/{job_id}/cancel")
    outcome = benchmark.run_task(session_factory(), default_storage(), jobs.TaskSpec(job_id, 1, "jpeg", 10))
    assert outcome == TaskOutcome.SKIPPED
    assert api.get(f"/api/v1/jobs/{job_id}/results").json() == []
