"""Under the Content-Security-Policy every main page renders with no console error and no CSP violation, and
user-supplied names (an image set and a file named ``<script>alert(1)</script>``) run nothing anywhere."""

from __future__ import annotations

import pytest

from tests.support.accounts import browser_login
from tests.support.browser import launch_chromium, until
from tests.support.images import png_bytes, random_photo

pytestmark = [pytest.mark.integration, pytest.mark.browser]

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"

VIOLATIONS_JS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


# ReDoc's standalone bundle hard-codes its "powered by" logo from its CDN: blocking it is the point (no request
# leaves the machine). Resource failures are checked by status in the response listener instead.
EXPECTED = ("https://cdn.redoc.ly/", "Failed to load resource")


def _expected(text: str) -> bool:
    return any(marker in text for marker in EXPECTED)


@pytest.fixture(scope="module")
def hostile_job(production_stack):
    """An image set and a one-point JPEG job whose names are HTML/script, made over the API."""
    with production_stack.client() as client:
        upload = client.post(
            "/api/v1/image-sets",
            data={"name": HOSTILE, "visibility": "public"},
            files=[("files", (f"{HOSTILE}.png", png_bytes(random_photo(40, 48)), "image/png"))],
        )
        assert upload.status_code == 201, upload.text
        set_id = upload.json()["id"]
        job = client.post(
            "/api/v1/jobs",
            json={"image_set_id": set_id, "codecs": [{"name": "jpeg", "rate_points": [50]}], "metrics": ["psnr"]},
        )
        assert job.status_code == 202, job.text
    production_stack.wait_for_job(job.json()["id"], timeout=240)
    return set_id, job.json()["id"]


def test_pages_render_under_the_csp_and_hostile_names_run_nothing(production_stack, hostile_job):
    from playwright.sync_api import sync_playwright

    set_id, job_id = hostile_job
    pages = [
        "/",
        "/image-sets",
        "/jobs",
        f"/image-sets/{set_id}",
        f"/jobs/{job_id}",
        f"/jobs/{job_id}/results",
        "/leaderboard",
        "/tokens",
        "/analysis/iqa-datasets",
        "/docs",
        "/redoc",
    ]
    problems: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.add_init_script(VIOLATIONS_JS)
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.on(
            "console",
            lambda message: (
                problems.append(f"{page.url}: console {message.type}: {message.text}")
                if message.type == "error" and not _expected(message.text)
                else None
            ),
        )
        page.on(
            "response",
            lambda response: (
                problems.append(f"{page.url}: {response.status} for {response.url}")
                if response.status >= 400 and not response.url.endswith("/favicon.ico")
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(f"{page.url}: uncaught {error}"))
        browser_login(page, production_stack.base_url, production_stack.user, production_stack.password)
        for path in pages:
            response = page.goto(production_stack.base_url + path)
            assert response is not None and response.status == 200, path
            assert "script-src 'self'" in response.headers["content-security-policy"]
            page.wait_for_load_state("networkidle")
            violations = page.evaluate("window.__cspViolations")
            problems += [f"{path}: CSP blocked {v}" for v in violations if not _expected(v)]
        page.goto(f"{production_stack.base_url}/jobs/{job_id}")
        until(page, "document.querySelectorAll('#results-table tbody tr').length >= 1")
        until(page, "document.getElementById('rd-plot').data !== undefined")
        assert HOSTILE in page.text_content("body")  # shown as text
        page.goto(f"{production_stack.base_url}/image-sets/{set_id}")
        assert HOSTILE in page.text_content("body")
        assert page.evaluate("document.querySelectorAll('script:not([src])').length") <= 1
        browser.close()
    assert dialogs == [], f"a user-supplied name ran script: {dialogs}"
    assert problems == [], "\n".join(problems)
