"""Helpers for the metric-analysis tests: upload an IQA data set zip and run its background work in-process."""

from __future__ import annotations

from pathlib import Path

from tests.support import iqa_fixtures


def dataset_zip(tmp_path: Path, layout: str, *, top_level: str | None = "dataset", **options) -> tuple[Path, object]:
    """A tiny synthetic data set in ``layout`` zipped (inside one top-level folder by default); (zip, fixture)."""
    folder = tmp_path / f"{layout}-files"
    fixture = iqa_fixtures.WRITERS[layout](folder, **options)
    return iqa_fixtures.zip_folder(folder, tmp_path / f"{layout}.zip", top_level=top_level), fixture


def post_dataset(
    api, zip_path: Path, layout: str, name: str = "tiny", metrics: str | None = "psnr,gmsd", **form
) -> object:
    data = {"name": name, "layout": layout, **form}
    if metrics is not None:
        data["metrics"] = metrics
    with open(zip_path, "rb") as handle:
        return api.post(
            "/api/v1/iqa-datasets", data=data, files={"archive": (zip_path.name, handle.read(), "application/zip")}
        )


def run_dataset_in_process(dataset_id: int) -> None:
    """What the worker tasks do (verify, then score every chunk), in this process."""
    from app.db.session import session_factory
    from app.services.datasets import iqa_datasets
    from app.services.storage import default_storage

    iqa_datasets.run_inline(session_factory(), default_storage(), dataset_id)


def stored_dataset_files(data_dir: Path) -> list[Path]:
    """Every file under the data sets folder (staging included)."""
    root = data_dir / "datasets"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def run_job_in_process(
    api,
    metrics=("psnr", "ssim", "gmsd"),
    sizes=((64, 80), (72, 72)),
    codecs=(("jpeg", (10, 30, 60, 90)),),
    set_name: str = "analysis",
) -> dict:
    """Upload ``sizes`` photos and run ``codecs`` through the worker's task function with ``metrics``; the job."""
    from app.db.session import session_factory
    from app.services.jobs import jobs
    from app.services.storage import default_storage
    from engine import benchmark
    from tests.support.images import photo_uploads

    files = photo_uploads(sizes)
    image_set = api.post("/api/v1/image-sets", data={"name": set_name}, files=files).json()
    created = api.post(
        "/api/v1/jobs",
        json={
            "image_set_id": image_set["id"],
            "codecs": [{"name": name, "rate_points": list(points)} for name, points in codecs],
            "metrics": list(metrics),
        },
    )
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    for image in image_set["images"]:
        for name, points in codecs:
            for q in points:
                benchmark.run_task(session_factory(), default_storage(), jobs.TaskSpec(job_id, image["id"], name, q))
    return api.get(f"/api/v1/jobs/{job_id}").json()


def score_pending_crops(study_id: int) -> int:
    """What the crop-scoring worker tasks do, in this process; returns how many crops were scored."""
    from sqlalchemy import select

    from app.db.session import session_factory
    from app.db.tables import StudyCropScore
    from app.services.storage import default_storage
    from app.services.studies import crop_scores

    with session_factory()() as session:
        ids = list(
            session.scalars(
                select(StudyCropScore.condition_id).where(
                    StudyCropScore.study_id == study_id, StudyCropScore.scored.is_(False)
                )
            )
        )
    return crop_scores.score_crops(session_factory(), default_storage(), study_id, ids) if ids else 0


def wait_for_dataset(client, dataset_id: int, timeout: float = 300) -> dict:
    """Poll ``GET /api/v1/iqa-datasets/{id}`` until it is no longer queued or running."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        dataset = client.get(f"/api/v1/iqa-datasets/{dataset_id}").json()
        if dataset["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return dataset
        time.sleep(0.2)


def wait_for_report(client, url: str, timeout: float = 300):
    """GET ``url`` until it stops answering 202 (metric values still being scored); the last response."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        response = client.get(url, timeout=600)
        if response.status_code != 202 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def stack_headers(stack, name: str = "analyst") -> dict[str, str]:
    """Bearer headers of a member ``name`` created in the stack's database (mutating routes need a user)."""
    import os

    from app.settings import get_settings
    from tests.support.accounts import make_user

    keys = ("DATABASE_URL", "BROKER_URL", "DATA_DIR")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: stack.env[k] for k in keys})
    get_settings.cache_clear()
    try:
        return make_user(name).headers
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()
