"""Triplet studies over REST (issue 29, section 6): creation with boosts, the /next shape, answers, and the
scale computed by the worker's function (202 until then), with JND = -score and the reference at 0."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.studies import run_small_job_in_process, take_session, true_scale


@pytest.fixture
def job(api, monkeypatch):
    monkeypatch.setenv("STUDY_BOOTSTRAP", "10")
    from app.settings import get_settings

    get_settings.cache_clear()
    return run_small_job_in_process(api)


def _create(api, job, **overrides):
    body = {
        "name": "triplets",
        "method": "triplet",
        "job_id": job["id"],
        "trials_per_session": 12,
        "crop": 48,
        "min_viewing_ms": 0,
        "boost": ["flicker", "zoom"],
    }
    body.update(overrides)
    return api.post("/api/v1/studies", json=body)


def test_triplet_trials_answers_and_worker_scale(api, job):
    created = _create(api, job)
    assert created.status_code == 201, created.text
    study = created.json()
    assert study["method"] == "triplet" and study["boost"] == ["zoom", "flicker"]
    session_id = api.post(f"/api/v1/studies/{study['id']}/sessions", json={"token": study["token"]}).json()["id"]
    trial = api.get(f"/api/v1/studies/{study['id']}/sessions/{session_id}/next").json()
    assert set(trial) == {"trial_id", "kind", "image_id", "pivot", "left", "right", "boost", "position", "total"}
    assert trial["kind"] == "triplet" and trial["boost"] in ([], ["zoom", "flicker"])
    ids = {c["id"]: c for c in study["conditions"]}
    assert ids[trial["left"]["condition_id"]]["image_id"] == trial["image_id"]
    for side in ("pivot", "left", "right"):
        image = api.get(trial[side]["url"])
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    url = f"/api/v1/studies/{study['id']}/sessions/{session_id}/responses"
    assert api.post(url, json={"trial_id": trial["trial_id"], "choice": "a"}).status_code == 422
    assert api.post(url, json={"trial_id": trial["trial_id"], "score": 3}).status_code == 422
    assert api.post(url, json={"trial_id": trial["trial_id"], "choice": "not_sure"}).status_code == 201

    truth = true_scale(study["conditions"], step=1.5)
    rng = np.random.default_rng(3)
    for _ in range(6):
        take_session(api, study, truth, rng)
    pending = api.get(f"/api/v1/studies/{study['id']}/scale")
    assert pending.status_code == 202 and pending.json() == {"status": "computing"}

    from app.db.session import session_factory
    from app.services.studies import studies

    assert studies.compute_and_store_scale(session_factory(), study["id"])  # what the worker task runs
    scale = api.get(f"/api/v1/studies/{study['id']}/scale")
    assert scale.status_code == 200, scale.text
    body = scale.json()
    assert body["unit"] == "JND" and body["method"] == "triplet"
    rows = [c for c in body["conditions"] if c["score"] is not None]
    assert rows and all(c["jnd"] == pytest.approx(-c["score"]) for c in rows)
    for c in rows:
        if c["reference"]:
            assert c["score"] == pytest.approx(0.0) and c["label"] == "reference"
        else:
            assert c["label"] == f"jpeg @ {c['rate_point']:g}" and c["group"] == str(c["image_id"])
    # the lowest-rate condition of each image is farther from the original than the highest-rate one
    for image_id in {c["image_id"] for c in rows}:
        mine = sorted((c for c in rows if c["image_id"] == image_id and not c["reference"]), key=lambda c: c["bpp"])
        assert mine[0]["jnd"] > mine[-1]["jnd"]


def test_boost_is_refused_for_other_methods_and_unknown_boosts(api, job):
    assert _create(api, job, method="pairwise").status_code == 422
    assert _create(api, job, boost=["blur"]).status_code == 422
    assert api.get("/api/v1/studies").json() == []
