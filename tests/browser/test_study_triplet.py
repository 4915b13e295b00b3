"""The triplet participant page in Chromium (issue 29, section 6): training, answers by the arrow keys
(left, right, down = not sure), 1:1 device pixels (x2 under the zoom boost), and the JND scale that the
stack's real worker computes afterwards."""

from __future__ import annotations

import time

import pytest

from tests.support.browser import answer_trial, launch_chromium
from tests.support.studies import stack_user_headers, study_on_stack

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TRIALS = 6


@pytest.fixture(scope="module")
def owner(production_stack) -> dict[str, str]:
    return stack_user_headers(production_stack, "browser-triplet-owner")


@pytest.fixture(scope="module")
def study(production_stack, owner):
    spec = {
        "name": "triplet browser study",
        "method": "triplet",
        "trials_per_session": TRIALS,
        "crop": 48,
        "min_viewing_ms": 100,
        "boost": ["zoom", "flicker"],
    }
    return study_on_stack(production_stack, owner, spec)


def test_triplet_trials_by_keyboard_at_one_to_one_then_the_worker_scale(production_stack, study, owner):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(viewport={"width": 1000, "height": 800}, device_scale_factor=2)
        page = context.new_page()
        page.goto(production_stack.base_url + study["participant_url"][study["participant_url"].index("/studies/") :])
        page.click("#start")
        for key in ("ArrowLeft", "ArrowRight", "ArrowDown"):  # training: page only
            assert page.get_attribute("#stage", "data-training") == "true"
            answer_trial(page, key)
        page.wait_for_selector("#stage[data-training=false]")
        keys = ["ArrowLeft", "ArrowRight", "ArrowDown"]
        for i in range(TRIALS):
            page.wait_for_selector("#stage[data-ready=true]")
            assert page.get_attribute("#stage", "data-position") == str(i + 1)
            zoom = 2 if "zoom" in page.get_attribute("#stage", "data-boost").split(",") else 1
            for side in ("left", "pivot", "right"):  # 48 image pixels on 48 * zoom device pixels at DPR 2
                assert page.evaluate(f"document.getElementById('img-{side}').width") == 48
                assert (
                    page.evaluate(f"document.getElementById('img-{side}').getBoundingClientRect().width") == 24 * zoom
                )
            answer_trial(page, keys[i % 3])
        page.wait_for_selector("#done:not([hidden])")
        sid = page.evaluate(f"localStorage.getItem('licbench-study-{study['id']}-session')")
        context.close()
        browser.close()

    with production_stack.client() as client:
        rows = client.get(f"/api/v1/studies/{study['id']}/responses", headers=owner).json()
        mine = [r for r in rows if r["session"] == sid]
        assert [r["position"] for r in mine] == list(range(1, TRIALS + 1))  # training was not recorded
        assert {r["choice"] for r in mine if r["control"] == "regular"} <= {"left", "right", "not_sure"}
        assert "not_sure" in {r["choice"] for r in mine}
        deadline = time.monotonic() + 180
        while (scale := client.get(f"/api/v1/studies/{study['id']}/scale")).status_code == 202:
            assert scale.json() == {"status": "computing"}
            assert time.monotonic() < deadline, "the worker never computed the scale"
            time.sleep(0.5)
        assert scale.status_code == 200, scale.text
        body = scale.json()
        assert body["unit"] == "JND" and body["trials"] == TRIALS
        assert all(c["jnd"] == pytest.approx(-c["score"]) for c in body["conditions"] if c["score"] is not None)
