"""Human studies over REST (issue 9): validation, tokens, trial flow, answers, CSV, scale."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from PIL import Image

from tests.support.studies import run_small_job_in_process, take_session, true_scale


@pytest.fixture
def job(api, monkeypatch):
    monkeypatch.setenv("STUDY_BOOTSTRAP", "20")  # the scale's bootstrap stays quick in tests
    from app.settings import get_settings

    get_settings.cache_clear()
    return run_small_job_in_process(api)


def _create(api, job, **overrides):
    body = {
        "name": "jpeg study",
        "method": "pairwise",
        "job_id": job["id"],
        "trials_per_session": 12,
        "sampling": "balanced",
        "crop": 48,
    }
    body.update(overrides)
    return api.post("/api/v1/studies", json=body)


def _count_studies(api) -> int:
    return len(api.get("/api/v1/studies").json())


def test_study_from_a_job_has_conditions_crops_and_a_secret_token(api, job):
    response = _create(api, job)
    assert response.status_code == 201, response.text
    study = response.json()
    assert study["status"] == "open" and study["method"] == "pairwise"
    assert len(study["token"]) >= 22  # token_urlsafe(32): 256 random bits
    assert study["participant_url"].endswith(f"/studies/{study['id']}/take?token={study['token']}")
    conditions = study["conditions"]
    assert len(conditions) == 2 * (3 + 1)  # two images x (three JPEG rate points + the reference)
    references = [c for c in conditions if c["result_id"] is None]
    assert len(references) == 2 and {c["codec"] for c in references} == {"reference"}
    assert all(c["bpp"] is None and c["rate_point"] is None for c in references)
    assert {c["rate_point"] for c in conditions if c["result_id"]} == {10, 40, 90}
    for image_id in {c["image_id"] for c in conditions}:
        boxes = {tuple(c["crop_box"]) for c in conditions if c["image_id"] == image_id}
        assert len(boxes) == 1 and list(boxes)[0][2:] == (48, 48)  # one square region per image


def test_crop_null_shows_whole_images(api, job):
    study = _create(api, job, crop=None).json()
    sizes = {(c["crop_box"][2], c["crop_box"][3]) for c in study["conditions"]}
    assert sizes == {(80, 64), (72, 72)}


@pytest.mark.parametrize(
    "change, status, words",
    [
        ({"job_id": 99999}, 404, "job 99999"),
        ({"result_ids": []}, 422, "2 conditions"),
        ({"result_ids": [99999]}, 422, "do not exist"),
        ({"method": "ranking"}, 422, "method"),
        ({"sampling": "greedy"}, 422, "sampling"),
        ({"crop": 3}, 422, "crop"),
        ({"trials_per_session": 0}, 422, "trials_per_session"),
    ],
)
def test_bad_study_requests_are_rejected_and_store_nothing(api, job, change, status, words):
    response = _create(api, job, **change)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert _count_studies(api) == 0


def test_results_of_another_job_and_unfinished_jobs_are_rejected(api, job):
    other = run_small_job_in_process(api, sizes=((40, 40),), rate_points=(50,))
    foreign = api.get(f"/api/v1/jobs/{other['id']}/results").json()[0]["id"]
    response = _create(api, job, result_ids=[foreign])
    assert response.status_code == 422 and f"not results of job {job['id']}" in response.json()["detail"]
    image_set = api.get("/api/v1/image-sets").json()[0]
    queued = api.post(
        "/api/v1/jobs",
        json={"image_set_id": image_set["id"], "codecs": [{"name": "jpeg", "rate_points": [30]}], "metrics": ["psnr"]},
    ).json()
    response = _create(api, {"id": queued["id"]})
    assert response.status_code == 409 and "succeeded" in response.json()["detail"]
    assert _count_studies(api) == 0


def test_wrong_token_is_forbidden_and_session_ids_are_unguessable(api, job):
    study = _create(api, job).json()
    empty = api.get(f"/api/v1/studies/{study['id']}/scale").json()  # no answers yet: no scores, no error
    assert empty["trials"] == 0 and all(c["score"] is None and c["n"] == 0 for c in empty["conditions"])
    wrong = api.post(f"/api/v1/studies/{study['id']}/sessions", json={"token": "guess"})
    assert wrong.status_code == 403
    ids = {
        api.post(f"/api/v1/studies/{study['id']}/sessions", json={"token": study["token"]}).json()["id"]
        for _ in range(3)
    }
    assert len(ids) == 3 and all(len(i) >= 32 for i in ids)
    assert api.get(f"/api/v1/studies/{study['id']}/sessions/not-a-session/next").status_code == 404
    page = api.get(f"/studies/{study['id']}/take?token=guess")
    assert page.status_code == 403 and "not valid" in page.text


def test_next_repeats_until_answered_and_answers_are_checked(api, job):
    study = _create(api, job).json()
    sid = api.post(
        f"/api/v1/studies/{study['id']}/sessions",
        json={"token": study["token"], "display": {"width": 1280, "height": 900, "device_pixel_ratio": 2}},
    ).json()["id"]
    base = f"/api/v1/studies/{study['id']}/sessions/{sid}"
    first = api.get(f"{base}/next").json()
    assert first == api.get(f"{base}/next").json()  # a reload resumes the same trial
    assert first["position"] == 1 and first["total"] == 12 and first["kind"] == "pairwise"
    assert {"condition_id", "url"} <= set(first["a"]) and first["b"]["url"].startswith(base)
    for url in (first["a"]["url"], first["b"]["url"], first["reference_url"]):
        image = api.get(url)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(image.content)).size == (48, 48)
    other = api.post(f"/api/v1/studies/{study['id']}/sessions", json={"token": study["token"]}).json()["id"]
    assert api.get(first["a"]["url"].replace(sid, other)).status_code == 404  # images belong to a session

    assert api.post(f"{base}/responses", json={"trial_id": first["trial_id"], "choice": "c"}).status_code == 422
    assert api.post(f"{base}/responses", json={"trial_id": first["trial_id"], "score": 3}).status_code == 422
    assert api.post(f"{base}/responses", json={"trial_id": first["trial_id"]}).status_code == 422
    foreign = api.post(
        f"/api/v1/studies/{study['id']}/sessions/{other}/responses", json={"trial_id": first["trial_id"], "choice": "a"}
    )
    assert foreign.status_code == 404
    ok = api.post(f"{base}/responses", json={"trial_id": first["trial_id"], "choice": "a", "response_ms": 1234})
    assert ok.status_code == 201
    again = api.post(f"{base}/responses", json={"trial_id": first["trial_id"], "choice": "b"})
    assert again.status_code == 409
    second = api.get(f"{base}/next").json()
    assert second["position"] == 2 and second["trial_id"] != first["trial_id"]

    assert api.post(f"/api/v1/studies/{study['id']}/close").json()["status"] == "closed"
    assert api.get(f"{base}/next").status_code == 204
    closed = api.post(f"{base}/responses", json={"trial_id": second["trial_id"], "choice": "a"})
    assert closed.status_code == 409
    assert api.post(f"/api/v1/studies/{study['id']}/sessions", json={"token": study["token"]}).status_code == 409


def test_session_serves_its_controls_and_ends_with_204(api, job):
    study = _create(api, job, trials_per_session=12).json()
    references = {c["id"] for c in study["conditions"] if c["result_id"] is None}
    truth = true_scale(study["conditions"])
    sid = take_session(api, study, truth, np.random.default_rng(1), participant="obs-1")
    assert api.get(f"/api/v1/studies/{study['id']}/sessions/{sid}/next").status_code == 204
    rows = list(csv.DictReader(io.StringIO(api.get(f"/api/v1/studies/{study['id']}/responses?format=csv").text)))
    assert len(rows) == 12 and [int(r["position"]) for r in rows] == list(range(1, 13))
    controls = [r["control"] for r in rows]
    assert controls.count("trap") == 2 and controls.count("repeat") == 1 and controls.count("identical") == 1
    for r in rows:
        if r["control"] == "trap":
            assert {int(r["condition_A"]), int(r["condition_B"])} & references
        if r["control"] == "identical":
            assert r["condition_A"] == r["condition_B"]
        if r["control"] == "repeat":
            original = next(o for o in rows if o["trial_id"] == r["repeat_of_trial_id"])
            assert (r["condition_A"], r["condition_B"]) == (original["condition_B"], original["condition_A"])


def test_csv_has_pwcmp_columns_and_the_logged_extras(api, job):
    study = _create(api, job, trials_per_session=6).json()
    take_session(api, study, true_scale(study["conditions"]), np.random.default_rng(2), participant="ann")
    response = api.get(f"/api/v1/studies/{study['id']}/responses?format=csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(response.text))
    assert reader.fieldnames[:6] == ["observer", "session", "scene", "condition_A", "condition_B", "is_A_selected"]
    rows = list(reader)
    assert len(rows) == 6 and {r["observer"] for r in rows} == {"ann"}
    first = rows[0]
    assert first["is_A_selected"] in ("0", "1") and first["choice"] in ("a", "b")
    assert int(first["response_ms"]) >= 800
    assert (first["window_width"], first["window_height"], first["device_pixel_ratio"]) == ("1600", "1000", "1.0")
    as_json = api.get(f"/api/v1/studies/{study['id']}/responses?limit=4")
    assert as_json.headers["x-total-count"] == "6" and len(as_json.json()) == 4
    assert list(as_json.json()[0])[:6] == reader.fieldnames[:6] and as_json.json()[0]["observer"] == "ann"


def test_pairwise_flow_gives_a_scale_with_the_reference_at_zero_and_the_true_order(api, job):
    study = _create(api, job, trials_per_session=24).json()
    truth = true_scale(study["conditions"], step=2.0)  # 2 JOD apart: 91% of answers agree with the truth
    rng = np.random.default_rng(7)
    for i in range(5):
        take_session(api, study, truth, rng, participant=f"sim-{i}")
    liar = take_session(api, study, truth, rng, random_answers=True, participant="random")
    contrarian = take_session(api, study, truth, rng, inverted=True, participant="contrarian")
    scale = api.get(f"/api/v1/studies/{study['id']}/scale").json()
    assert scale["unit"] == "JOD" and scale["method"] == "pairwise"
    by_image: dict[int, list[dict]] = {}
    for c in scale["conditions"]:
        by_image.setdefault(c["image_id"], []).append(c)
        assert c["ci_low"] <= c["score"] <= c["ci_high"]
    for rows in by_image.values():
        reference = next(c for c in rows if c["codec"] == "reference")
        assert reference["score"] == pytest.approx(0.0, abs=1e-9)
        ordered = [c["condition_id"] for c in sorted(rows, key=lambda c: c["score"], reverse=True)]
        assert ordered == sorted(ordered, key=lambda cid: truth[cid], reverse=True)
    # Added fields (issue 29): effective comparisons per condition, per-group warnings also in `warnings`.
    for c in scale["conditions"]:
        assert c["effective_comparisons"] is None or 0 < c["effective_comparisons"] <= c["n"]
    assert any(c["effective_comparisons"] for c in scale["conditions"])
    for w in scale["group_warnings"]:
        assert f"scene {w['group']}: {w['message']}" in scale["warnings"]
    observers = {o["session_id"]: o for o in scale["observers"]}
    assert len(observers) == 7 and observers[liar]["trials"] == 24
    # Failing the hidden traps flags the observer, says why, and keeps them out of the scale (not silently).
    assert observers[contrarian]["outlier"] and "trap" in observers[contrarian]["reason"]
    assert observers[contrarian]["excluded"] and any("trap" in w for w in scale["warnings"])
    # The cache: a second GET answers the same computation; a new answer makes it stale.
    again = api.get(f"/api/v1/studies/{study['id']}/scale").json()
    assert again["computed_at"] == scale["computed_at"]
    take_session(api, study, truth, rng)
    fresh = api.get(f"/api/v1/studies/{study['id']}/scale").json()
    assert fresh["answers_version"] > scale["answers_version"] and len(fresh["observers"]) == 8


def test_dsis_flow_gives_mos_with_intervals(api, job):
    study = _create(api, job, method="dsis", trials_per_session=10).json()
    base = f"/api/v1/studies/{study['id']}"
    sid = api.post(f"{base}/sessions", json={"token": study["token"]}).json()["id"]
    trial = api.get(f"{base}/sessions/{sid}/next").json()
    assert trial["kind"] == "dsis" and "b" not in trial or trial.get("b") is None
    assert (
        api.post(f"{base}/sessions/{sid}/responses", json={"trial_id": trial["trial_id"], "choice": "a"}).status_code
        == 422
    )
    assert (
        api.post(f"{base}/sessions/{sid}/responses", json={"trial_id": trial["trial_id"], "score": 6}).status_code
        == 422
    )
    truth = true_scale(study["conditions"])
    rng = np.random.default_rng(3)
    for _ in range(4):
        take_session(api, study, truth, rng)
    scale = api.get(f"{base}/scale").json()
    assert scale["unit"] == "MOS"
    scored = [c for c in scale["conditions"] if c["score"] is not None]
    assert scored and all(1 <= c["score"] <= 5 and c["ci_low"] <= c["score"] <= c["ci_high"] for c in scored)
    references = [c for c in scored if c["codec"] == "reference"]
    assert references and min(c["score"] for c in references) >= 4


def test_owner_page_and_study_progress(api, job):
    study = _create(api, job, trials_per_session=4).json()
    take_session(api, study, true_scale(study["conditions"]), np.random.default_rng(4))
    detail = api.get(f"/api/v1/studies/{study['id']}").json()
    assert detail["progress"]["sessions"] == 1 and detail["progress"]["sessions_complete"] == 1
    assert detail["progress"]["trials_answered"] == 4
    assert sum(c["trials"] for c in detail["progress"]["conditions"]) >= 4
    page = api.get(f"/studies/{study['id']}")
    assert page.status_code == 200 and study["token"] in page.text and "/vendor/plotly-" in page.text
    assert 'id="study-form"' in api.get(f"/jobs/{job['id']}").text  # the job page links a new study
    take = api.get(f"/studies/{study['id']}/take?token={study['token']}")
    assert take.status_code == 200 and "/static/study_participant.js" in take.text


def test_owner_side_needs_the_jobs_owner_and_participants_need_no_account(api, job):
    from tests.support.accounts import ANONYMOUS, make_user

    assert (
        api.post(
            "/api/v1/studies", headers=ANONYMOUS, json={"name": "x", "method": "pairwise", "job_id": job["id"]}
        ).status_code
        == 401
    )
    other = make_user("other-lab")
    foreign = api.post(
        "/api/v1/studies", headers=other.headers, json={"name": "x", "method": "pairwise", "job_id": job["id"]}
    )
    assert foreign.status_code in (403, 404) and _count_studies(api) == 0  # the job is private to "tester"
    study = _create(api, job, trials_per_session=4).json()

    # Another user cannot see a private job's study, its token, its responses, nor close it.
    assert api.get(f"/api/v1/studies/{study['id']}", headers=other.headers).status_code == 403
    assert api.get("/api/v1/studies", headers=other.headers).json() == []
    assert api.get(f"/api/v1/studies/{study['id']}/responses", headers=ANONYMOUS).status_code == 401
    assert api.post(f"/api/v1/studies/{study['id']}/close", headers=other.headers).status_code == 403

    # An anonymous participant with the link takes the whole session.
    sid = take_session(_Anonymous(api), study, true_scale(study["conditions"]), np.random.default_rng(6))
    assert api.get(f"/api/v1/studies/{study['id']}/sessions/{sid}/next", headers=ANONYMOUS).status_code == 204
    page = api.get(f"/studies/{study['id']}/take?token={study['token']}", headers=ANONYMOUS)
    assert page.status_code == 200


class _Anonymous:
    """The test client without its bearer token (a participant has no account)."""

    def __init__(self, client) -> None:
        self.client = client

    def get(self, url, **kwargs):
        from tests.support.accounts import ANONYMOUS

        return self.client.get(url, headers=ANONYMOUS, **kwargs)

    def post(self, url, **kwargs):
        from tests.support.accounts import ANONYMOUS

        return self.client.post(url, headers=ANONYMOUS, **kwargs)
