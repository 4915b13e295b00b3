"""End to end in Chromium: a job, a study showing crops, simulated observers answering over REST, crops scored by
the real worker, the correlation, then the metric report card: ranking, scatter (click -> images), failures, bias."""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.support.analysis import stack_headers, wait_for_report
from tests.support.images import png_bytes, random_photo
from tests.support.studies import take_session, true_scale

pytestmark = [pytest.mark.integration, pytest.mark.browser]

METRICS = ["psnr", "ssim", "gmsd"]


def _until(page, expression: str, timeout: float = 10.0) -> None:
    """Poll ``expression`` in the page (page.evaluate runs under the page's CSP without eval)."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.1)


def _wait_for_job(stack, job_id: int, headers: dict, timeout: float = 300) -> dict:
    """Poll the (private) job as its owner until it leaves queued/running."""
    import time

    deadline = time.monotonic() + timeout
    with stack.client() as client:
        client.headers.update(headers)
        while True:
            job = client.get(f"/api/v1/jobs/{job_id}").json()
            if job.get("status") not in ("queued", "running") or time.monotonic() > deadline:
                return job
            time.sleep(0.5)


@pytest.fixture(scope="module")
def answered_study(production_stack):
    files = [
        ("files", (f"photo{i}.png", png_bytes(random_photo(h, w, seed=90 + i)), "image/png"))
        for i, (h, w) in enumerate(((64, 80), (72, 72)))
    ]
    headers = stack_headers(production_stack, "report-owner")
    with production_stack.client() as client:
        client.headers.update(headers)
        uploaded = client.post("/api/v1/image-sets", data={"name": "report"}, files=files)
        assert uploaded.status_code == 201, uploaded.text
        image_set = uploaded.json()
        created = client.post(
            "/api/v1/jobs",
            json={
                "image_set_id": image_set["id"],
                "codecs": [{"name": "jpeg", "rate_points": [10, 30, 60, 90]}],
                "metrics": METRICS,
            },
        )
        assert created.status_code == 202, created.text
    job = _wait_for_job(production_stack, created.json()["id"], headers)
    assert job["status"] == "succeeded", job
    with production_stack.client() as client:
        client.headers.update(headers)
        study = client.post(
            "/api/v1/studies",
            json={
                "name": "report study",
                "method": "pairwise",
                "job_id": job["id"],
                "trials_per_session": 30,
                "sampling": "balanced",
                "crop": 48,
            },
        ).json()
        truth = true_scale(study["conditions"], step=1.5)
        rng = np.random.default_rng(21)
        for i in range(4):
            take_session(client, study, truth, rng, participant=f"sim-{i}")
        first = client.get(f"/api/v1/studies/{study['id']}/correlation")
        assert first.status_code == 202 and first.json()["status"] == "scoring"  # the crops go to the worker
        report = wait_for_report(client, f"/api/v1/studies/{study['id']}/correlation")
        assert report.status_code == 200, report.text
    return study, report.json(), headers


def test_report_card_ranks_metrics_plots_them_and_shows_where_they_fail(production_stack, answered_study, browser):
    study, report, headers = answered_study
    assert report["source"] == {"study_id": study["id"]} and report["n"] == 8
    context = browser.new_context(viewport={"width": 1300, "height": 900}, extra_http_headers=headers)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{production_stack.base_url}/analysis/studies/{study['id']}")
    page.wait_for_selector("#ranking tbody tr", timeout=60_000)

    ranked = page.eval_on_selector_all("#ranking tbody tr", "rows => rows.map(r => r.dataset.metric)")
    assert ranked == [r["metric"] for r in report["metrics"]]  # the page shows the API's ranking
    first_cells = page.eval_on_selector_all(
        "#ranking tbody tr:first-child td", "cells => cells.map(c => c.textContent)"
    )
    assert first_cells[3].startswith(f"{report['metrics'][0]['srocc']:.3f} [")  # SROCC with its interval
    marks = page.eval_on_selector_all("#ranking tbody tr td:nth-child(8)", "cells => cells.map(c => c.textContent)")
    assert marks[0] == "" and all(m in ("*", "≈", "") for m in marks[1:])

    page.wait_for_selector("#scatter-plot .scatterlayer .point", timeout=30_000)
    assert page.locator("#scatter-plot .scatterlayer .point").count() == 8
    # The point may lie below the fold (mouse clicks use viewport coordinates): scroll it into view first. A click
    # that lands while Plotly is still laying the plot out is lost: click again, at most three times.
    for attempt in range(3):
        point = page.locator("#scatter-plot .scatterlayer .point").first
        point.scroll_into_view_if_needed()
        box = point.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        try:
            page.wait_for_selector("#pair-view:not([hidden])", timeout=10_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise AssertionError(f"three clicks at {box} (viewport {page.viewport_size}) opened no pair") from None
    _until(
        page,
        "document.getElementById('pair-image').naturalWidth === 48 && "
        "document.getElementById('pair-reference').naturalWidth === 48",
    )

    assert page.locator("#worst .worst-metric").count() == len(METRICS)
    assert page.locator("#worst .worst-residual img").count() >= 2
    assert page.locator("#bias tbody tr").count() == len(METRICS)  # one family (classical) per metric
    assert "under-rates classical" in page.inner_text("#bias") or "over-rates classical" in page.inner_text("#bias")
    json_link = page.get_attribute("#download-json", "href")
    csv_link = page.get_attribute("#download-csv", "href")
    with production_stack.client() as client:
        client.headers.update(headers)
        assert client.get(json_link, timeout=600).json()["correlation"]["source"] == {"study_id": study["id"]}
        assert client.get(csv_link).text.startswith("image,condition")
    page.wait_for_selector("#breakdown tbody tr[data-group=classical]", timeout=30_000)
    assert errors == []
    context.close()


def test_a_newcomer_walks_every_page_without_a_dead_end(production_stack, answered_study, browser):
    """Issue 33's walk: front page -> the finished job -> viewer (keys still work after a dropdown) -> leaderboard
    -> studies list -> metrics page -> report card. Any console error, uncaught exception or JSON error page
    shown to the browser fails it; a screenshot of every stop goes to test-artifacts/walk."""
    import os
    from pathlib import Path

    study, _, headers = answered_study
    shots = (
        Path(os.environ.get("LICBENCH_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts") / "walk"
    )
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1300, "height": 900}, extra_http_headers=headers)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"exception: {e}"))
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    base = production_stack.base_url

    def visit(path: str, name: str, ready: str) -> None:
        response = page.goto(base + path)
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        assert response.headers["content-type"].startswith("text/html"), f"{path} answered {response.headers}"
        page.wait_for_selector(ready, timeout=60_000)
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    visit("/", "1-front", "#intro")
    assert page.is_visible("#leaderboard-link") and page.is_visible("#api-link")
    visit(f"/jobs/{study['job_id']}", "2-job", "#rd-plot .scatterlayer .trace")
    page.wait_for_selector("#bd-table tbody tr, #bd-pending:not(:empty)", timeout=30_000)
    page.wait_for_selector("#results-table tbody tr a.viewer-link", timeout=30_000)
    _until(page, "document.getElementById('job-tasks').textContent === '2/2'", timeout=30)  # tasks done of total
    page.click("#results-table tbody tr:first-child a.viewer-link")
    page.wait_for_selector("#viewer[data-scale]")
    page.select_option("#mode", "ssim")  # a dropdown takes focus...
    _until(
        page,
        "document.getElementById('viewer').dataset.mode === 'ssim' && !document.getElementById('left-source').value.match(/^original$/)",
        timeout=30,
    )
    assert "reconstruction of the map" in page.inner_text("#left-source option:checked")
    _until(page, "!document.getElementById('map-scale').hidden", timeout=30)  # the map's scale, with what it measures
    page.keyboard.press("1")  # ...and the keys still work
    _until(page, "document.getElementById('viewer').dataset.scale === '1'", timeout=30)
    page.keyboard.press("b")
    _until(page, "document.getElementById('viewer').dataset.mode === 'side'", timeout=30)
    _until(page, "document.getElementById('map-scale').hidden", timeout=30)
    page.screenshot(path=str(shots / "3-viewer.png"), full_page=True)
    visit("/leaderboard", "4-leaderboard", "main")
    visit("/studies", "5-studies", "#studies-rows .study-row")
    assert study["name"] in page.inner_text("#studies-table")
    visit("/metrics", "6-metrics", "#metric-psnr")
    assert "dB" in page.inner_text("#metric-psnr")
    visit(f"/analysis/studies/{study['id']}", "7-report", "#ranking tbody tr")
    page.wait_for_selector("#scatter-plot .xtitle", timeout=30_000)  # axis titles on the scatter
    assert not page.is_visible("#pair-view") and page.locator("#pair-view img").count() == 0
    assert "observer" in page.inner_text("#report-warning")  # 4 sessions < 15 (ITU-R BT.500)
    missing = page.goto(base + "/jobs/999999")  # a dead link shows a page, not JSON
    assert missing.status == 404 and missing.headers["content-type"].startswith("text/html")
    assert page.is_visible("#error-page")
    problems = [p for p in problems if "404" not in p]  # the deliberate 404 just above logs one resource error
    assert problems == []


def test_scores_only_aic4_report_card_shows_the_jpeg_ai_column_and_no_images(production_stack, browser, tmp_path):
    import zipfile
    from pathlib import Path

    fixture = Path(__file__).resolve().parents[1] / "data" / "aic4"
    zip_path = tmp_path / "aic4.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for csv_path in fixture.glob("*.csv"):
            archive.write(csv_path, csv_path.name)
    headers = stack_headers(production_stack, "aic4-owner")
    with production_stack.client() as client, open(zip_path, "rb") as handle:
        created = client.post(
            "/api/v1/iqa-datasets",
            headers=headers,
            data={"name": "AIC-4", "layout": "aic4"},
            files={"archive": (zip_path.name, handle.read(), "application/zip")},
        )
    assert created.status_code == 202 and created.json()["scores_only"], created.text
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{production_stack.base_url}/analysis/iqa-datasets/{created.json()['id']}")
    page.wait_for_selector("#breakdown tbody tr[data-group=JPEG-AI]", timeout=120_000)
    groups = page.eval_on_selector_all("#breakdown tbody tr", "rows => rows.map(r => r.dataset.group)")
    assert groups == ["AVIF", "JPEG-1", "JPEG-2000", "JPEG-AI", "JPEG-XL", "VVC"]
    assert "best" in page.inner_text("#breakdown tbody tr[data-group=JPEG-AI]")
    assert page.locator("#ranking tbody tr").count() == 9 and page.is_visible("#scores-only-note")
    assert "72 items" in page.inner_text("#report-status")
    page.wait_for_selector("#worst .worst-residual", timeout=30_000)
    assert page.locator("#worst img").count() == 0 and page.locator("#worst .worst-item").count() > 0
    page.wait_for_selector("#scatter-plot .scatterlayer .point", timeout=30_000)
    box = page.locator("#scatter-plot .scatterlayer .point").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.is_hidden("#pair-view")  # no image to open
    assert "under-rates learned" in page.inner_text("#bias") or "over-rates learned" in page.inner_text("#bias")
    assert errors == []
    context.close()
