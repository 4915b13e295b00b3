"""BD-rate, CompressAI JSON export and reference curves through the API, on a job run in-process."""

from __future__ import annotations

import json

import pytest

from analysis.compressai_json import from_compressai_json
from tests.support.images import png_bytes, random_photo


@pytest.fixture
def finished_job(api):
    """A job over two JPEG variants, its tasks executed by the same function the Celery task calls."""
    from app.db.session import session_factory
    from app.services.jobs import jobs
    from app.services.storage import default_storage
    from engine import benchmark

    files = [("files", (f"{i}.png", png_bytes(random_photo(96, 128, seed=i)), "image/png")) for i in range(2)]
    image_set = api.post("/api/v1/image-sets", data={"name": "bd"}, files=files).json()
    job_id = api.post(
        "/api/v1/jobs",
        json={
            "image_set_id": image_set["id"],
            "codecs": [
                {"name": "jpeg", "rate_points": [20, 40, 60, 80, 90]},
                {"name": "jpeg-444", "rate_points": [20, 40, 60, 80, 90]},
                {"name": "webp", "rate_points": [50, 90]},
            ],
            "metrics": ["psnr"],
        },
    ).json()["id"]
    for image in image_set["images"]:
        for codec, points in (("jpeg", [20, 40, 60, 80, 90]), ("jpeg-444", [20, 40, 60, 80, 90]), ("webp", [50, 90])):
            for q in points:
                benchmark.run_task(session_factory(), default_storage(), jobs.TaskSpec(job_id, image["id"], codec, q))
    assert api.get(f"/api/v1/jobs/{job_id}").json()["status"] == "succeeded"
    return job_id


def test_bd_rate_against_an_anchor(api, finished_job):
    body = api.get(f"/api/v1/jobs/{finished_job}/bd-rate?anchor=jpeg&metric=psnr").json()
    rows = {r["codec"]: r for r in body["rows"]}
    assert set(rows) == {"jpeg-444", "webp"}
    assert isinstance(rows["jpeg-444"]["bd_rate"]["value"], float)
    assert rows["webp"]["bd_rate"]["value"] is None and "4" in rows["webp"]["bd_rate"]["reason"]


def test_bd_rate_rejects_an_anchor_outside_the_job(api, finished_job):
    response = api.get(f"/api/v1/jobs/{finished_job}/bd-rate?anchor=avif&metric=psnr")
    assert response.status_code == 422 and "anchor 'avif'" in response.json()["detail"]


def test_compressai_json_export_reads_back(api, finished_job):
    documents = api.get(f"/api/v1/jobs/{finished_job}/compressai-json").json()
    curve = from_compressai_json(documents["jpeg"])
    assert len(curve.bpp) == 5 and len(curve.metrics["psnr"]) == 5
    one = api.get(f"/api/v1/jobs/{finished_job}/compressai-json?codec=webp")
    assert "attachment" in one.headers["content-disposition"]
    assert one.json()["results"]["rate_point"] == [50, 90]


def test_reference_curves_import_and_list(api, finished_job):
    listed = api.get("/api/v1/reference-curves").json()
    assert any(c["name"] == "cheng2020-anchor" and c["source"] for c in listed)
    document = api.get(f"/api/v1/jobs/{finished_job}/compressai-json?codec=jpeg").json()
    created = api.post(
        "/api/v1/reference-curves", files={"file": ("jpeg.json", json.dumps(document), "application/json")}
    )
    assert created.status_code == 201
    assert any(c["id"] == created.json()["id"] for c in api.get("/api/v1/reference-curves").json())
    bad = api.post("/api/v1/reference-curves", files={"file": ("x.json", b'{"results": {}}', "application/json")})
    assert bad.status_code == 422 and "bpp" in bad.json()["detail"]


def test_routing_sends_classical_codecs_to_cpu_and_learned_to_the_learned_queue():
    from engine.queue import queue_for

    assert queue_for("classical", "gpu") == "cpu"
    assert queue_for("learned", "gpu") == "gpu"
    assert queue_for("submitted", "cpu") == "cpu"
