"""/docs and /redoc render in Chromium with every non-loopback request blocked (no CDN)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from tests.support.browser import launch_chromium
from tests.support.servers import free_port, wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def served_app(settings_env) -> Iterator[str]:
    """The in-process app behind a real uvicorn server on loopback (a thread, no worker needed)."""
    import uvicorn

    from app.main import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def offline_page():
    """A Chromium page whose requests to anything but 127.0.0.1 are aborted (and recorded)."""
    from playwright.sync_api import sync_playwright

    blocked: list[tuple[str, str]] = []

    def only_loopback(route) -> None:
        url = route.request.url
        if urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append((route.request.resource_type, url))
            route.abort()

    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.route("**/*", only_loopback)
        yield page, blocked
        browser.close()


def test_swagger_ui_renders_the_operations_offline(served_app, offline_page):
    page, blocked = offline_page
    page.goto(served_app + "/docs")
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/jobs").first
    operation.wait_for(state="visible", timeout=30_000)
    assert page.locator(".opblock").count() > 10
    assert blocked == []


def test_redoc_renders_the_operations_offline(served_app, offline_page):
    page, blocked = offline_page
    page.goto(served_app + "/redoc")
    page.get_by_text("/api/v1/jobs/{job_id}/results", exact=False).first.wait_for(state="attached", timeout=30_000)
    assert page.locator("h2", has_text="List Jobs").count() >= 1
    # ReDoc's footer links its "powered by" logo from its CDN; nothing the page needs is fetched remotely.
    assert [url for kind, url in blocked if kind != "image"] == []
