"""An imported AIC-3 study on real parts (PostgreSQL, Redis, a Celery worker, uvicorn): stored in one request,
its JND scale computed by the worker (202 until then), read-only afterwards."""

from __future__ import annotations

import time

import pytest

from tests.api.test_study_import_api import aic3_csv
from tests.support.analysis import stack_headers

pytestmark = pytest.mark.integration


def test_aic3_import_is_scaled_by_the_real_worker(production_stack):
    headers = stack_headers(production_stack)
    with production_stack.client() as client:
        created = client.post(
            "/api/v1/studies/import",
            headers=headers,
            data={"name": "AIC-3 tiny", "format": "aic3", "visibility": "public"},
            files=[("files", ("ptc_btc.csv", aic3_csv(workers=6), "text/csv"))],
        )
        assert created.status_code == 201, created.text
        study_id = created.json()["id"]
        deadline = time.monotonic() + 180
        while (scale := client.get(f"/api/v1/studies/{study_id}/scale")).status_code == 202:
            assert time.monotonic() < deadline, production_stack.worker_log.read_text()[-3000:]
            time.sleep(0.5)
        assert scale.status_code == 200, scale.text
        listed = client.get(f"/api/v1/studies/{study_id}").json()
        closing = client.post(f"/api/v1/studies/{study_id}/close", headers=headers)
    body = scale.json()
    assert body["unit"] == "JND" and body["method"] == "triplet"
    jnd = {c["label"]: c["jnd"] for c in body["conditions"]}
    assert jnd["PTC_00003_0ref_00.png"] == pytest.approx(0.0)
    assert jnd["PTC_00003_JPEG-AI_01.png"] < jnd["PTC_00003_JPEG-AI_04.png"]
    assert listed["imported"] is True and listed["job_id"] is None and listed["status"] == "closed"
    assert closing.status_code == 409
