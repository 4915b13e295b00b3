"""GET .../correlation and .../report for studies (simulated observers) and imported IQA data sets."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from scipy.stats import spearmanr

from tests.support.analysis import (
    dataset_zip,
    post_dataset,
    run_dataset_in_process,
    run_job_in_process,
    score_pending_crops,
)
from tests.support.studies import take_session, true_scale

ROW_KEYS = {"metric", "n", "flipped", "srocc", "srocc_ci", "krocc", "plcc", "plcc_ci", "rmse", "fit"}


@pytest.fixture
def job(api):
    return run_job_in_process(api)


def _study(api, job, **overrides) -> dict:
    body = {
        "name": "analysis",
        "method": "pairwise",
        "job_id": job["id"],
        "trials_per_session": 30,
        "crop": None,
        **overrides,
    }
    created = api.post("/api/v1/studies", json=body)
    assert created.status_code == 201, created.text
    return created.json()


def _answer(api, study, sessions=4, seed=5):
    truth = true_scale(study["conditions"], step=1.5)
    rng = np.random.default_rng(seed)
    for i in range(sessions):
        take_session(api, study, truth, rng, participant=f"sim-{i}")
    return truth


def _check_shape(report: dict, source: dict, metrics: set[str]):
    assert report["source"] == source
    assert {"unit", "n", "metrics", "groups", "comparisons"} <= set(report)
    assert {r["metric"] for r in report["metrics"]} == metrics
    for row in report["metrics"]:
        assert ROW_KEYS <= set(row) and {"form", "params", "failed"} <= set(row["fit"])
    sroccs = [r["srocc"] for r in report["metrics"] if r["srocc"] is not None]
    assert sroccs == sorted(sroccs, reverse=True)  # ranked best first
    for c in report["comparisons"]:
        assert {"a", "b", "delta_srocc", "p_bootstrap", "p_williams"} <= set(c)


def test_study_correlation_shape_orientation_and_groups(api, job):
    study = _study(api, job)
    _answer(api, study)
    base = f"/api/v1/studies/{study['id']}"
    report = api.get(f"{base}/correlation").json()
    _check_shape(report, {"study_id": study["id"]}, {"psnr", "ssim", "gmsd"})
    assert report["unit"] == "JOD" and report["groups"] == {}
    rows = {r["metric"]: r for r in report["metrics"]}
    assert rows["gmsd"]["flipped"] is True and rows["psnr"]["flipped"] is False
    assert report["n"] == 8 and all(r["n"] == 8 for r in rows.values())
    # The SROCC is the honest one: scale values against the metric's values, oriented.
    scale = api.get(f"{base}/scale").json()
    results = {r["id"]: r for r in api.get(f"/api/v1/jobs/{job['id']}/results").json()}
    judged = [c for c in scale["conditions"] if c["result_id"] is not None]
    expected = spearmanr([results[c["result_id"]]["metrics"]["psnr"] for c in judged], [c["score"] for c in judged])[0]
    assert rows["psnr"]["srocc"] == pytest.approx(expected, abs=1e-9)
    assert rows["psnr"]["srocc"] > 0.5  # simulated observers follow bpp, and so does PSNR
    lo, hi = rows["psnr"]["srocc_ci"]
    assert lo <= rows["psnr"]["srocc"] <= hi

    by_image = api.get(f"{base}/correlation", params={"group": "image", "fit": "logistic5"}).json()
    assert by_image["fit"] == "logistic5" and set(by_image["groups"]) == {str(c["image_id"]) for c in judged}
    assert set(api.get(f"{base}/correlation", params={"group": "family"}).json()["groups"]) == {"classical"}
    assert set(api.get(f"{base}/correlation", params={"group": "band"}).json()["groups"]) <= {"low", "mid", "high"}
    assert set(api.get(f"{base}/correlation", params={"group": "codec"}).json()["groups"]) == {"jpeg"}


def test_bad_group_or_fit_is_422_and_unknown_study_404(api, job):
    study = _study(api, job)
    for params in ({"group": "planet"}, {"fit": "cubic"}):
        response = api.get(f"/api/v1/studies/{study['id']}/correlation", params=params)
        assert response.status_code == 422 and "must be one of" in response.json()["detail"]
    assert api.get("/api/v1/studies/999/correlation").status_code == 404
    assert api.get("/api/v1/iqa-datasets/999/correlation").status_code == 404


def test_report_is_cached_and_recomputed_when_the_scale_changes(api, job):
    from sqlalchemy import select

    from app.db.session import session_factory
    from app.db.tables import AnalysisReport

    study = _study(api, job)
    truth = _answer(api, study, sessions=3)
    url = f"/api/v1/studies/{study['id']}/correlation"
    first = api.get(url).json()

    def version() -> str:
        with session_factory()() as session:
            return session.scalar(
                select(AnalysisReport.version).where(
                    AnalysisReport.source == "study",
                    AnalysisReport.source_id == study["id"],
                    AnalysisReport.key == "correlation:overall:logistic4",
                )
            )

    cached = version()
    assert api.get(url).json() == first and version() == cached
    take_session(api, study, truth, np.random.default_rng(99))
    api.get(url)
    assert version() != cached


def test_a_study_showing_crops_is_correlated_on_the_crops_scored_by_the_worker_tasks(api, job):
    study = _study(api, job, crop=32)
    _answer(api, study, sessions=3)
    url = f"/api/v1/studies/{study['id']}/correlation"
    pending = api.get(url)
    assert pending.status_code == 202 and pending.json() == {"status": "scoring", "done": 0, "total": 8}
    assert api.get(url).status_code == 202  # asking again queues nothing twice
    assert score_pending_crops(study["id"]) == 8
    assert score_pending_crops(study["id"]) == 0  # a redelivered task finds nothing left
    report = api.get(url)
    assert report.status_code == 200, report.text
    # The values correlated are the crops', not the full images'.
    full = {r["id"]: r["metrics"]["psnr"] for r in api.get(f"/api/v1/jobs/{job['id']}/results").json()}
    points = api.get(f"/api/v1/studies/{study['id']}/report").json()["points"]
    assert points and any(abs(p["metrics"]["psnr"] - full[p["result_id"]]) > 1e-6 for p in points)
    shown = api.get(points[0]["image_url"])
    assert shown.status_code == 200 and shown.content[:4] == b"\x89PNG"


def test_study_report_json_and_csv(api, job):
    study = _study(api, job)
    _answer(api, study)
    base = f"/api/v1/studies/{study['id']}"
    report = api.get(f"{base}/report").json()
    assert report["correlation"]["source"] == {"study_id": study["id"]}
    assert len(report["points"]) == 8 and all(p["family"] == "classical" for p in report["points"])
    metrics = {m["metric"]: m for m in report["metrics"]}
    assert set(metrics) == {"psnr", "ssim", "gmsd"}
    for m in metrics.values():
        assert {"worst", "contradicting_pairs", "family_bias"} <= set(m)
        for w in m["worst"]:
            assert w["residual"] == pytest.approx(w["human"] - w["predicted"])
        assert [b["family"] for b in m["family_bias"]] in ([], ["classical"])
    for url in (report["points"][0]["image_url"], report["points"][0]["reference_url"]):
        assert api.get(url).status_code == 200
    table = list(csv.DictReader(io.StringIO(api.get(f"{base}/report?format=csv").text)))
    assert len(table) == 8 and {"psnr", "ssim", "gmsd", "human_jod"} <= set(table[0])


@pytest.mark.parametrize("layout", ["tid2013", "csiq"])
def test_dataset_correlation_orients_dmos_and_breaks_down_by_distortion(api, settings_env, tmp_path, layout):
    zip_path, fixture = dataset_zip(tmp_path, layout)
    created = post_dataset(api, zip_path, layout, metrics="psnr,gmsd").json()
    url = f"/api/v1/iqa-datasets/{created['id']}/correlation"
    pending = api.get(url)
    assert pending.status_code == 202 and pending.json()["status"] == "scoring"
    run_dataset_in_process(created["id"])
    report = api.get(url, params={"group": "distortion"}).json()
    _check_shape(report, {"dataset_id": created["id"]}, {"psnr", "gmsd"})
    assert report["n"] == fixture.n_distorted
    assert report["unit"] == ("MOS" if layout == "tid2013" else "DMOS")
    rows = {r["metric"]: r for r in report["metrics"]}
    # Fixture: noise grows with the level while the human score falls: both metrics agree with people.
    assert rows["psnr"]["srocc"] > 0.7 and rows["gmsd"]["srocc"] > 0.7 and rows["gmsd"]["flipped"]
    assert len(report["groups"]) == 2
    card = api.get(f"/api/v1/iqa-datasets/{created['id']}/report").json()
    assert len(card["points"]) == fixture.n_distorted
    assert api.get(card["points"][0]["image_url"]).status_code == 200


def test_clic_triplets_give_2afc_agreement(api, settings_env, tmp_path):
    zip_path, _ = dataset_zip(tmp_path, "clic2021-perceptual")
    created = post_dataset(api, zip_path, "clic2021-perceptual", metrics="psnr").json()
    run_dataset_in_process(created["id"])
    report = api.get(f"/api/v1/iqa-datasets/{created['id']}/correlation").json()
    assert report["unit"] == "2AFC" and report["n"] == 6
    row = report["metrics"][0]
    assert row["metric"] == "psnr" and row["two_afc"]["n"] == 6
    assert row["two_afc"]["share"] == 1.0  # the milder noise always wins, as people chose


def test_a_study_without_answers_has_no_observations_yet(api, job):
    study = _study(api, job)
    report = api.get(f"/api/v1/studies/{study['id']}/correlation")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["n"] == 0 and all(r["srocc"] is None for r in body["metrics"]) and body["comparisons"] == []


def test_crop_tasks_are_sent_once_and_sent_again_only_when_lost(api, job, monkeypatch):
    from datetime import timedelta

    from app.services.studies import crop_scores

    sent: list[list[int]] = []
    monkeypatch.setattr(crop_scores, "send", lambda study_id, ids: sent.append(list(ids)) or 1)
    study = _study(api, job, crop=32)
    url = f"/api/v1/studies/{study['id']}/correlation"
    assert api.get(url).status_code == 202 and api.get(url).status_code == 202
    assert len(sent) == 1 and len(sent[0]) == 8
    monkeypatch.setattr(crop_scores, "STALE_AFTER", timedelta(0))
    assert api.get(url).status_code == 202
    assert len(sent) == 2 and sorted(sent[1]) == sorted(sent[0])


def test_an_unreachable_queue_is_503_and_leaves_nothing_waiting(api, job, monkeypatch):
    from app.services.studies import crop_scores

    def broken(study_id, ids):
        raise ConnectionError("broker down")

    monkeypatch.setattr(crop_scores, "send", broken)
    study = _study(api, job, crop=32)
    response = api.get(f"/api/v1/studies/{study['id']}/correlation")
    assert response.status_code == 503 and "broker down" in response.json()["detail"]
    sent: list[list[int]] = []
    monkeypatch.setattr(crop_scores, "send", lambda study_id, ids: sent.append(list(ids)) or 1)
    assert api.get(f"/api/v1/studies/{study['id']}/correlation").status_code == 202 and len(sent[0]) == 8
