"""Issue 12's loop in Debian's Chromium: log in -> upload -> job -> leaderboard -> viewer (zoom, flicker) ->
log out. Screenshots go to $LICBENCH_ARTIFACTS, else test-artifacts/dashboard-flow (gitignored); the path is
printed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.accounts import browser_login
from tests.support.browser import launch_chromium, until
from tests.support.images import png_bytes, random_photo
from tests.support.stack import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def _artifacts() -> Path:
    folder = Path(os.environ.get("LICBENCH_ARTIFACTS") or ROOT / "test-artifacts" / "dashboard-flow")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


def test_member_runs_the_whole_loop_in_a_browser(production_stack, tmp_path):
    from playwright.sync_api import sync_playwright

    password = "member password 42"
    subprocess.run(
        [sys.executable, "-m", "app.cli", "user", "create", "lab-member", "--password-stdin"],
        input=password + "\n",
        text=True,
        env=production_stack.env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    shots = _artifacts()
    files = []
    for i, (h, w) in enumerate([(96, 120), (104, 88)]):
        path = tmp_path / f"photo{i}.png"
        path.write_bytes(png_bytes(random_photo(h, w, seed=70 + i)))
        files.append(str(path))
    base = production_stack.base_url

    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        # strangers cannot upload; the login form brings them back
        page.goto(base + "/")
        assert page.is_visible("#login-hint")
        browser_login(page, base, "lab-member", password)
        assert page.text_content("#current-user").startswith("lab-member")
        page.screenshot(path=str(shots / "1-logged-in.png"), full_page=True)

        # upload a public image set
        page.goto(base + "/")
        page.fill("#set-name", "dashboard flow")
        page.select_option("#set-visibility", "public")
        page.set_input_files("#file-input", files)
        page.click("#upload-button")
        page.wait_for_url("**/image-sets/*")
        assert page.locator(".thumbs figure").count() == 2
        assert page.is_checked("input[name=codec][value=jpeg]")  # sensible default

        # a job: JPEG and WebP, four rate points each, so BD-rates exist
        for box in page.locator("input[name=codec]").all():
            box.uncheck()
        page.check("input[name=codec][value=jpeg]")
        page.fill("input[name='rate-jpeg']", "20, 40, 60, 85")
        page.check("input[name=codec][value=webp]")
        page.fill("input[name='rate-webp']", "30, 50, 70, 90")
        page.screenshot(path=str(shots / "2-job-form.png"), full_page=True)
        page.click("#start-job")
        page.wait_for_url("**/jobs/*")
        job_id = int(page.url.rstrip("/").split("/")[-1])
        until(page, "document.getElementById('job-status').textContent === 'succeeded'", timeout=240)
        until(page, "document.querySelectorAll('#results-table tbody tr').length === 16")
        assert page.text_content("#job-owner") == "lab-member"
        health = page.evaluate("fetch('/api/v1/health').then(r => r.json())")  # the real worker's heartbeat
        assert health["workers"]["alive"] is True and health["workers"]["count"] >= 1, health
        assert page.text_content("#job-duration") != "–"
        page.select_option("#rd-xscale", "log")
        until(page, "document.getElementById('rd-plot').layout.xaxis.type === 'log'")
        page.screenshot(path=str(shots / "3-job.png"), full_page=True)

        # the leaderboard ranks both codecs against the JPEG anchor
        page.click("text=Leaderboard")
        page.wait_for_selector("#leaderboard-table")
        codecs = page.eval_on_selector_all("#leaderboard-table tbody tr", "rows => rows.map(r => r.dataset.codec)")
        assert set(codecs) == {"jpeg", "webp"}
        assert "n/a" not in page.text_content("#leaderboard-table tbody tr:first-child")
        permalink = page.get_attribute("#lb-permalink", "href")
        assert "metric=psnr" in permalink and "anchor=jpeg" in permalink
        page.screenshot(path=str(shots / "4-leaderboard.png"), full_page=True)

        # the viewer, from a row of the job's results table
        page.goto(f"{base}/jobs/{job_id}")
        until(page, "document.querySelectorAll('#results-table tbody tr').length > 0")
        page.click("#results-table tbody tr:first-child a.viewer-link")
        page.wait_for_url("**/results/*")
        page.wait_for_selector("#viewer[data-scale]")
        page.keyboard.press("1")
        until(page, "document.getElementById('viewer').dataset.scale === '1'")
        page.keyboard.press("+")
        until(page, "document.getElementById('viewer').dataset.scale === '2'")
        assert page.text_content("#zoom-label") == "2:1"
        page.screenshot(path=str(shots / "5-viewer-2x.png"), full_page=True)
        page.keyboard.press(" ")  # flicker: the single pane alternates between the two images
        until(page, "document.getElementById('viewer').dataset.mode === 'flicker'")
        first = page.get_attribute("#viewer", "data-showing")
        until(page, f"document.getElementById('viewer').dataset.showing !== '{first}'", timeout=5)
        page.screenshot(path=str(shots / "6-viewer-flicker.png"), full_page=True)
        page.select_option("#mode", "abs")
        until(page, "document.getElementById('viewer').dataset.mode === 'abs'")
        page.screenshot(path=str(shots / "7-viewer-error-map.png"), full_page=True)

        # log out: mutating needs a login again
        page.click("#logout-button")
        page.wait_for_selector("#login-link")
        status = page.evaluate(
            "fetch('/api/v1/jobs', {method: 'POST', headers: {'Content-Type': 'application/json'},"
            " body: '{}'}).then(r => r.status)"
        )
        assert status == 401
        page.screenshot(path=str(shots / "8-logged-out.png"), full_page=True)
        assert not errors, errors
        browser.close()
