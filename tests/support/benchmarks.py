"""Jobs run in-process: the tasks executed by the same function the Celery task calls."""

from __future__ import annotations

from tests.support.images import png_bytes, random_photo


def upload_set(api, name: str, sizes=((64, 80),), visibility: str = "private", headers=None, seed: int = 0) -> dict:
    files = [
        ("files", (f"img{i}.png", png_bytes(random_photo(h, w, seed=seed + i)), "image/png"))
        for i, (h, w) in enumerate(sizes)
    ]
    response = api.post(
        "/api/v1/image-sets", data={"name": name, "visibility": visibility}, files=files, headers=headers or {}
    )
    assert response.status_code == 201, response.text
    return response.json()


def run_job(api, image_set: dict, codecs: dict[str, list], metrics: list[str], headers=None) -> int:
    """Create a job over ``codecs`` (name -> rate points) and run its tasks here; returns the job id."""
    from app.db.session import session_factory
    from app.services.jobs import jobs
    from app.services.storage import default_storage
    from engine import benchmark

    created = api.post(
        "/api/v1/jobs",
        headers=headers or {},
        json={
            "image_set_id": image_set["id"],
            "metrics": metrics,
            "codecs": [{"name": n, "rate_points": p} for n, p in codecs.items()],
        },
    )
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    for image in image_set["images"]:
        for codec, points in codecs.items():
            for q in points:
                benchmark.run_task(session_factory(), default_storage(), jobs.TaskSpec(job_id, image["id"], codec, q))
    return job_id


def fail_jpeg_at(monkeypatch, rate_point: float) -> None:
    """Make the registry's jpeg encoder raise ``RuntimeError("encoder crashed at RATE")`` at ``rate_point`` (other
    rate points encode as usual) until ``monkeypatch`` undoes it."""
    from app.services.jobs import catalog

    jpeg = catalog.registry_codecs()["jpeg"]
    encode = jpeg.encode

    def failing(image, rate):
        if rate == rate_point:
            raise RuntimeError(f"encoder crashed at {rate_point:g}")
        return encode(image, rate)

    monkeypatch.setattr(jpeg, "encode", failing)
