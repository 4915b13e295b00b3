"""Fixtures of the browser tests."""

from __future__ import annotations

import pytest

from tests.support.browser import launch_chromium


@pytest.fixture(scope="module")
def browser():
    """A headless Debian Chromium for the tests of one module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()
