"""Pages in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os

import pytest

from tests.support.accounts import browser_login
from tests.support.browser import launch_chromium, until
from tests.support.images import png_bytes, random_photo

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        yield page
        browser.close()


def test_upload_run_job_and_see_one_rd_trace_per_codec(production_stack, page, tmp_path):
    files = []
    for i, (h, w) in enumerate([(180, 200), (170, 210)]):
        path = tmp_path / f"photo{i}.png"
        path.write_bytes(png_bytes(random_photo(h, w, seed=40 + i)))
        files.append(str(path))

    browser_login(page, production_stack.base_url, production_stack.user, production_stack.password)
    page.goto(production_stack.base_url + "/")
    page.fill("#set-name", "browser upload")
    page.set_input_files("#file-input", files)
    assert page.locator("#file-list li").count() == 2
    page.click("#upload-button")
    page.wait_for_url("**/image-sets/*")
    assert page.locator(".thumbs figure").count() == 2

    # Only the two spine codecs, with short sweeps, so the job is quick.
    for box in page.locator("input[name=codec]:not([disabled])").all():
        box.uncheck()
    page.check("input[name=codec][value=jpeg]")
    page.fill("input[name='rate-jpeg']", "20, 60, 90")
    page.check("input[name=codec][value=tiny-hyperprior]")
    page.fill("input[name='rate-tiny-hyperprior']", "1, 3")
    page.click("#start-job")
    page.wait_for_url("**/jobs/*")

    until(page, "document.getElementById('job-status').textContent === 'succeeded'", timeout=240)
    until(page, "document.querySelectorAll('#results-table tbody tr').length === 10")
    traces = page.evaluate("document.getElementById('rd-plot').data.map(t => t.name)")
    assert sorted(traces) == ["jpeg", "tiny-hyperprior"]
    points = page.evaluate("document.getElementById('rd-plot').data.map(t => t.x.length)")
    assert sorted(points) == [2, 3]

    page.select_option("#rd-metric", "ms-ssim")
    until(page, "document.getElementById('rd-plot').layout.yaxis.title.text === 'ms-ssim'")
    artifacts = os.environ.get("LICBENCH_ARTIFACTS")
    if artifacts:
        page.screenshot(path=os.path.join(artifacts, "job-page.png"), full_page=True)


def test_bad_upload_shows_the_servers_message(production_stack, page, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"not an image at all")
    browser_login(page, production_stack.base_url, production_stack.user, production_stack.password)
    page.goto(production_stack.base_url + "/")
    page.fill("#set-name", "bad")
    page.set_input_files("#file-input", [str(bad)])
    page.click("#upload-button")
    until(page, "document.getElementById('upload-error').textContent.length > 0")
    assert "not an image" in page.text_content("#upload-error")
