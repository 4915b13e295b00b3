"""GET /api/v1/jobs/{id}/gmad, the gMAD study it turns into, and the aggressiveness/resistance summary."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.analysis import run_job_in_process
from tests.support.studies import take_session, true_scale


@pytest.fixture
def job(api):
    return run_job_in_process(
        api, metrics=("psnr", "ssim", "gmsd"), codecs=(("jpeg", (10, 20, 35, 50, 70, 90)), ("webp", (10, 40, 80)))
    )


def test_gmad_pairs_have_near_equal_defender_and_the_largest_attacker_gaps(api, job):
    response = api.get(
        f"/api/v1/jobs/{job['id']}/gmad", params={"defender": "psnr", "attacker": "ssim", "pairs": 4, "tolerance": 1.0}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["defender"], body["attacker"]) == ("psnr", "ssim") and 0 < len(body["pairs"]) <= 4
    results = {r["id"]: r for r in api.get(f"/api/v1/jobs/{job['id']}/results").json()}
    for p in body["pairs"]:
        assert set(p) >= {"a", "b", "defender_gap", "attacker_gap"}
        for side in ("a", "b"):
            item = p[side]
            assert set(item) >= {"result_id", "codec", "rate_point", "bpp", "defender", "attacker"}
            stored = results[item["result_id"]]
            assert (item["defender"], item["attacker"]) == (stored["metrics"]["psnr"], stored["metrics"]["ssim"])
        assert results[p["a"]["result_id"]]["image_id"] == results[p["b"]["result_id"]]["image_id"]
        assert abs(p["a"]["defender"] - p["b"]["defender"]) == pytest.approx(p["defender_gap"])
        assert p["defender_gap"] <= 1.0
        assert p["a"]["attacker"] - p["b"]["attacker"] == pytest.approx(p["attacker_gap"])
        assert p["attacker_gap"] >= 0  # a is the attacker's pick
    gaps = [p["attacker_gap"] for p in body["pairs"]]
    assert gaps == sorted(gaps, reverse=True)


def test_lower_is_better_attacker_picks_the_lower_value(api, job):
    body = api.get(
        f"/api/v1/jobs/{job['id']}/gmad", params={"defender": "psnr", "attacker": "gmsd", "pairs": 3, "tolerance": 1.0}
    ).json()
    assert body["pairs"] and all(p["a"]["attacker"] <= p["b"]["attacker"] for p in body["pairs"])


@pytest.mark.parametrize(
    "params, status, words",
    [
        ({"defender": "psnr", "attacker": "lpips"}, 422, "not a metric job"),
        ({"defender": "psnr", "attacker": "psnr"}, 422, "different"),
        ({"defender": "psnr", "attacker": "ssim", "pairs": 0}, 422, "pairs"),
        ({"defender": "psnr", "attacker": "ssim", "tolerance": -1}, 422, "tolerance"),
    ],
)
def test_bad_gmad_queries(api, job, params, status, words):
    response = api.get(f"/api/v1/jobs/{job['id']}/gmad", params=params)
    assert response.status_code == status and words in response.json()["detail"]


def test_unknown_job_is_404(api):
    assert api.get("/api/v1/jobs/999/gmad").status_code == 404


def test_gmad_study_is_answered_and_summarised(api, job):
    created = api.post(
        f"/api/v1/jobs/{job['id']}/gmad/study",
        json={"metrics": ["psnr", "ssim"], "pairs": 2, "tolerance": 1.0, "trials_per_session": 30},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["pairs"] >= 2 and body["report_url"] == f"/analysis/studies/{body['study_id']}"
    study = api.get(f"/api/v1/studies/{body['study_id']}").json()
    assert study["method"] == "pairwise"
    truth = true_scale(study["conditions"], step=1.0)
    rng = np.random.default_rng(11)
    for i in range(3):
        take_session(api, study, truth, rng, participant=f"sim-{i}")
    summary = api.get(f"/api/v1/studies/{study['id']}/gmad").json()
    assert summary["job_id"] == job["id"] and len(summary["pairs"]) == body["pairs"]
    for p in summary["pairs"]:
        assert p["prefers_attacker_choice"] is None or 0.0 <= p["prefers_attacker_choice"] <= 1.0
    scores = {s["metric"]: s for s in summary["summary"]}
    assert set(scores) == {"psnr", "ssim"}
    for s in scores.values():
        assert s["aggressiveness"] is None or 0.0 <= s["aggressiveness"] <= 1.0
        assert s["resistance"] is None or 0.0 <= s["resistance"] <= 1.0
    page = api.get(f"/analysis/studies/{study['id']}")
    assert page.status_code == 200 and 'data-gmad="true"' in page.text


def test_gmad_study_errors_store_nothing(api, job):
    before = len(api.get("/api/v1/studies").json())
    plain = api.post("/api/v1/studies", json={"name": "plain", "method": "pairwise", "job_id": job["id"]}).json()
    assert api.get(f"/api/v1/studies/{plain['id']}/gmad").status_code == 404
    before += 1
    assert api.post(f"/api/v1/jobs/{job['id']}/gmad/study", json={"metrics": ["psnr", "lpips"]}).status_code == 422
    assert api.post(f"/api/v1/jobs/{job['id']}/gmad/study", json={"pairs": 2}).status_code == 422
    assert api.post("/api/v1/jobs/999/gmad/study", json={"metrics": ["psnr", "ssim"]}).status_code == 404
    assert len(api.get("/api/v1/studies").json()) == before


def test_gmad_page_offers_the_jobs_metrics(api, job):
    page = api.get(f"/analysis/jobs/{job['id']}/gmad")
    assert page.status_code == 200
    assert all(f'<option value="{m}"' in page.text for m in ("psnr", "ssim", "gmsd"))
    assert api.get("/analysis/jobs/999/gmad").status_code == 404


def test_a_private_jobs_gmad_and_study_analysis_are_for_its_owner(api, job):
    from tests.support.accounts import ANONYMOUS, make_user

    other = make_user("other")
    url = f"/api/v1/jobs/{job['id']}/gmad"
    assert api.get(url, headers=other.headers).status_code == 403
    assert api.get(url, headers=ANONYMOUS).status_code == 401
    body = {"metrics": ["psnr", "ssim"], "pairs": 1, "tolerance": 1.0}
    assert api.post(f"{url}/study", json=body, headers=ANONYMOUS).status_code == 401
    assert api.post(f"{url}/study", json=body, headers=other.headers).status_code == 403
    created = api.post(f"{url}/study", json=body)
    assert created.status_code == 201, created.text
    study_id = created.json()["study_id"]
    for path in (
        f"/api/v1/studies/{study_id}/correlation",
        f"/api/v1/studies/{study_id}/report",
        f"/api/v1/studies/{study_id}/gmad",
        f"/analysis/studies/{study_id}",
    ):
        assert api.get(path, headers=other.headers).status_code == 403, path
    assert api.get(f"/api/v1/studies/{study_id}/gmad").status_code == 200
