"""A human study end to end on real parts (PostgreSQL, Redis, Celery worker, uvicorn): job -> study ->
simulated observers answering over REST -> the scale."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from tests.support.studies import run_small_job_on_stack, stack_user_headers, take_session, true_scale

pytestmark = pytest.mark.integration


def test_job_to_study_to_simulated_answers_to_scale(production_stack):
    owner = stack_user_headers(production_stack, "study-owner")
    job = run_small_job_on_stack(production_stack, owner)
    with production_stack.client() as client:
        created = client.post(
            "/api/v1/studies",
            json={
                "name": "end to end",
                "method": "pairwise",
                "job_id": job["id"],
                "trials_per_session": 24,
                "sampling": "active",
                "crop": 48,
            },
            headers=owner,
        )
        assert created.status_code == 201, created.text
        study = created.json()
        truth = true_scale(study["conditions"], step=2.0)
        rng = np.random.default_rng(11)
        sessions = [take_session(client, study, truth, rng, participant=f"sim-{i}") for i in range(5)]
        # 500 bootstrap resamples on a loaded CI machine can take a while: a patient client for this GET.
        scale = client.get(f"/api/v1/studies/{study['id']}/scale", timeout=600, headers=owner)
        assert scale.status_code == 200, scale.text
        scale = scale.json()
        rows = list(
            csv.DictReader(
                io.StringIO(client.get(f"/api/v1/studies/{study['id']}/responses?format=csv", headers=owner).text)
            )
        )

    assert scale["unit"] == "JOD" and scale["trials"] == 5 * 24 == len(rows)
    assert {o["session_id"] for o in scale["observers"]} == set(sessions)
    for image_id in {c["image_id"] for c in scale["conditions"]}:
        conditions = [c for c in scale["conditions"] if c["image_id"] == image_id]
        reference = next(c for c in conditions if c["codec"] == "reference")
        assert reference["score"] == pytest.approx(0.0, abs=1e-9)
        by_bpp = sorted((c for c in conditions if c["codec"] == "jpeg"), key=lambda c: c["bpp"])
        scores = [c["score"] for c in by_bpp]
        assert scores == sorted(scores) and scores[-1] < 0  # more bits look better, all below the original
        assert all(c["ci_low"] <= c["score"] <= c["ci_high"] for c in by_bpp)
