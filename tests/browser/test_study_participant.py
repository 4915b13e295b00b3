"""The participant page of a human study in Chromium: training, trials by keyboard, reload, resume, finish."""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import pytest

from tests.support.browser import answer_trial, until
from tests.support.studies import stack_user_headers, study_on_stack, take_session, true_scale

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TRIALS = 8


@pytest.fixture(scope="module")
def owner(production_stack) -> dict[str, str]:
    return stack_user_headers(production_stack, "browser-study-owner")


@pytest.fixture(scope="module")
def study(production_stack, owner):
    spec = {
        "name": "browser study",
        "method": "pairwise",
        "trials_per_session": TRIALS,
        "sampling": "balanced",
        "crop": 48,
        "min_viewing_ms": 150,
    }
    return study_on_stack(production_stack, owner, spec)


def test_take_trials_by_keyboard_reload_resume_and_finish(production_stack, study, owner, browser):
    # devicePixelRatio 2: a 48-pixel crop must be 24 CSS pixels wide (1 image pixel = 1 device pixel).
    context = browser.new_context(viewport={"width": 1000, "height": 800}, device_scale_factor=2)
    page = context.new_page()
    page.goto(production_stack.base_url + study["participant_url"][study["participant_url"].index("/studies/") :])
    page.click("#start")
    for _ in range(3):  # training trials: page only
        assert page.get_attribute("#stage", "data-training") == "true"
        answer_trial(page, "ArrowLeft")
    page.wait_for_selector("#stage[data-training=false]")
    sid = page.evaluate(f"localStorage.getItem('licbench-study-{study['id']}-session')")
    assert sid
    page.wait_for_selector("#stage[data-ready=true]")  # the first recorded trial's images are shown
    assert page.evaluate("document.getElementById('img-left').getBoundingClientRect().width") == 24
    assert page.evaluate("document.getElementById('img-left').naturalWidth") == 48

    a_src = page.get_attribute("#img-left", "src")
    page.keyboard.press("Space")  # flicker to the reference and back
    assert page.get_attribute("#img-left", "src").endswith("/reference.png")
    assert page.text_content("#cap-left") == "ORIGINAL"
    page.keyboard.press("Space")
    assert page.get_attribute("#img-left", "src") == a_src

    for i in range(5):
        assert page.get_attribute("#stage", "data-position") == str(i + 1)
        answer_trial(page, "ArrowLeft" if i % 2 else "ArrowRight")
    assert page.get_attribute("#stage", "data-position") == "6"
    trial_before = page.get_attribute("#stage", "data-trial-id")

    page.reload()  # resumes the stored session at the same, unanswered trial, without training
    page.wait_for_selector("#stage[data-training=false][data-position='6']")
    assert page.get_attribute("#stage", "data-trial-id") == trial_before
    assert page.is_hidden("#intro")
    for _ in range(TRIALS - 5):
        answer_trial(page, "ArrowRight")
    page.wait_for_selector("#done:not([hidden])")
    artifacts = os.environ.get("LICBENCH_ARTIFACTS")
    if artifacts:
        page.screenshot(path=os.path.join(artifacts, "study-done.png"))

    with production_stack.client() as client:
        rows = list(
            csv.DictReader(
                io.StringIO(client.get(f"/api/v1/studies/{study['id']}/responses?format=csv", headers=owner).text)
            )
        )
        assert client.get(f"/api/v1/studies/{study['id']}/sessions/{sid}/next").status_code == 204
    mine = [r for r in rows if r["session"] == sid]
    assert [int(r["position"]) for r in mine] == list(range(1, TRIALS + 1))  # training was not recorded
    assert all(int(r["response_ms"]) >= 150 for r in mine)
    assert {r["device_pixel_ratio"] for r in mine} == {"2.0"} and {r["window_width"] for r in mine} == {"1000"}
    context.close()


def test_a_window_too_small_for_one_to_one_says_so_instead_of_scaling(production_stack, study, browser):
    context = browser.new_context(viewport={"width": 260, "height": 500}, device_scale_factor=1)
    page = context.new_page()
    page.goto(production_stack.base_url + study["participant_url"][study["participant_url"].index("/studies/") :])
    page.click("#start")  # the training images are 128 px: two of them do not fit 260 CSS px side by side
    page.wait_for_selector("#fit-warning:not([hidden])")
    assert "too small" in page.text_content("#fit-warning")
    assert page.evaluate("document.getElementById('img-left').getBoundingClientRect().width") == 128
    assert page.get_attribute("#stage", "data-ready") == "false"
    page.set_viewport_size({"width": 1000, "height": 700})  # enlarged: the trial becomes answerable
    page.wait_for_selector("#stage[data-ready=true]")
    assert page.is_hidden("#fit-warning")
    context.close()


def test_owner_page_shows_progress_and_one_scale_plot_per_image(production_stack, study, owner, browser):
    with production_stack.client() as client:  # a participant needs no account
        take_session(client, study, true_scale(study["conditions"], step=2.0), np.random.default_rng(5))
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, extra_http_headers=owner)
    page = context.new_page()
    page.goto(f"{production_stack.base_url}/studies/{study['id']}")
    until(page, "document.querySelectorAll('#progress-table tbody tr').length === 8", timeout=60)
    assert page.get_attribute("#participant-link", "href").endswith(study["token"])
    assert int(page.text_content("#progress-trials")) >= TRIALS
    until(page, "document.querySelectorAll('.scale-plot').length === 2", timeout=120)
    names = page.evaluate("document.querySelector('.scale-plot').data.map(t => t.name)")
    assert names == ["jpeg", "reference"]
    assert page.evaluate("document.querySelector('.scale-plot').layout.yaxis.title.text") == "JOD"
    page.click("#close-study")
    until(page, "document.getElementById('study-status').textContent === 'closed'", timeout=60)
    context.close()
