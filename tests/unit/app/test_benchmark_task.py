"""One benchmark task per image x codec: one result row per rate point, stored as each finishes;
redelivery adds nothing; a failing rate point is recorded and the others are kept."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.support.benchmarks import fail_jpeg_at
from tests.support.images import png_bytes, random_photo

POINTS = [20, 50, 80]


@pytest.fixture
def job(api):
    """A queued job over one 96x128 photo, jpeg at three rate points, psnr + ssim."""
    image_set = api.post(
        "/api/v1/image-sets",
        data={"name": "batched"},
        files=[("files", ("a.png", png_bytes(random_photo(96, 128, seed=11)), "image/png"))],
    ).json()
    job_id = api.post(
        "/api/v1/jobs",
        json={
            "image_set_id": image_set["id"],
            "metrics": ["psnr", "ssim"],
            "codecs": [{"name": "jpeg", "rate_points": POINTS}],
        },
    ).json()["id"]
    return job_id, image_set["images"][0]["id"]


def _run(job_id: int, image_id: int, points=POINTS):
    from app.db.session import session_factory
    from app.services.jobs import jobs
    from app.services.storage import default_storage
    from engine import benchmark

    return benchmark.run_task(
        session_factory(), default_storage(), jobs.TaskSpec(job_id, image_id, "jpeg", tuple(points))
    )


def _rows(api, job_id: int) -> list[dict]:
    return api.get(f"/api/v1/jobs/{job_id}/results").json()


def test_one_task_stores_one_row_per_rate_point_and_finishes_the_job(api, job):
    from app.db.enums import TaskOutcome

    assert _run(*job) == TaskOutcome.STORED
    rows = _rows(api, job[0])
    assert sorted(r["rate_point"] for r in rows) == POINTS
    assert len({r["bpp"] for r in rows}) == 3  # three real encodes, not one row copied
    psnr = {r["rate_point"]: r["metrics"]["psnr"] for r in rows}
    assert psnr[20] < psnr[50] < psnr[80]
    body = api.get(f"/api/v1/jobs/{job[0]}").json()
    assert body["status"] == "succeeded" and body["progress"] == {"done": 3, "total": 3}


def test_progress_counts_rows_as_each_rate_point_finishes(api, job, monkeypatch):
    from app.db.session import session_factory
    from app.db.tables import Job
    from engine import benchmark

    seen = []
    measure = benchmark.measure

    def spying_measure(codec, image, rate_point):
        with session_factory()() as session:  # what a client polling the job sees right now
            seen.append((rate_point, session.get(Job, job[0]).done))
        return measure(codec, image, rate_point)

    monkeypatch.setattr(benchmark, "measure", spying_measure)
    _run(*job)
    assert seen == [(20.0, 0), (50.0, 1), (80.0, 2)]


def test_a_redelivered_task_adds_no_rows_and_recomputes_nothing(api, job, monkeypatch):
    from app.db.enums import TaskOutcome
    from engine import benchmark

    _run(*job)
    first = _rows(api, job[0])
    _set_status(job[0], "running")  # a redelivery that arrives while the job still runs
    calls = []
    monkeypatch.setattr(benchmark, "measure", lambda *a: calls.append(a) or pytest.fail("recomputed"))
    assert _run(*job) == TaskOutcome.DUPLICATE
    assert calls == []
    assert _rows(api, job[0]) == first
    assert api.get(f"/api/v1/jobs/{job[0]}").json()["status"] == "succeeded"


def test_a_redelivered_task_after_a_crash_runs_only_the_missing_rate_points(api, job, monkeypatch):
    from app.db.enums import TaskOutcome
    from engine import benchmark

    _run(*job, points=[20])  # the worker died after the first row of [20, 50, 80]
    measured = []
    measure = benchmark.measure
    monkeypatch.setattr(benchmark, "measure", lambda c, i, rp: measured.append(rp) or measure(c, i, rp))
    assert _run(*job) == TaskOutcome.STORED
    assert measured == [50.0, 80.0]
    assert sorted(r["rate_point"] for r in _rows(api, job[0])) == POINTS


def test_a_failing_rate_point_is_recorded_and_the_others_are_kept(api, job, monkeypatch):
    from app.db.enums import TaskOutcome

    fail_jpeg_at(monkeypatch, 50)
    assert _run(*job) == TaskOutcome.FAILED
    assert sorted(r["rate_point"] for r in _rows(api, job[0])) == [20, 80]
    body = api.get(f"/api/v1/jobs/{job[0]}").json()
    assert body["progress"] == {"done": 3, "total": 3} and body["status"] == "failed"
    assert "1 of 3 tasks failed (2 results kept)" in body["error"] and "encoder crashed at 50" in body["error"]


def test_the_stored_reconstruction_is_exactly_the_scored_array(api, job, monkeypatch):
    from engine import benchmark

    scored = {}
    score_prepared = benchmark.score_prepared

    def keeping(prepared, distorted):
        scored[len(scored)] = distorted[0].copy()
        return score_prepared(prepared, distorted)

    monkeypatch.setattr(benchmark, "score_prepared", keeping)
    _run(*job)
    rows = sorted(_rows(api, job[0]), key=lambda r: r["rate_point"])
    for i, row in enumerate(rows):
        png = api.get(f"/api/v1/results/{row['id']}/reconstruction")
        assert png.status_code == 200
        with Image.open(io.BytesIO(png.content)) as img:
            assert img.format == "PNG" and img.mode == "RGB"
            np.testing.assert_array_equal(np.asarray(img), scored[i])


def test_a_job_cancelled_during_a_task_stops_it_before_the_next_rate_point(api, job, monkeypatch):
    from engine import benchmark

    measure = benchmark.measure

    def cancel_after_first(codec, image, rate_point):
        result = measure(codec, image, rate_point)
        if rate_point == 20:
            _set_status(job[0], "cancelled")
        return result

    monkeypatch.setattr(benchmark, "measure", cancel_after_first)
    _run(*job)
    assert [r["rate_point"] for r in _rows(api, job[0])] == [20]


def test_a_single_rate_point_task_message_still_runs():
    from app.services.jobs.jobs import TaskSpec

    assert TaskSpec(1, 2, "jpeg", 40).rate_points == (40.0,)
    assert TaskSpec(1, 2, "jpeg", [20, 40.5]).rate_points == (20.0, 40.5)


def _set_status(job_id: int, status: str) -> None:
    from app.db.session import session_factory
    from app.db.tables import Job

    with session_factory()() as session:
        session.get(Job, job_id).status = status
        session.commit()
