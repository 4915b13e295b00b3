"""Playwright helpers: one way to launch Debian's Chromium for the browser tests, benchmarks and scripts, and
``until``. The pages' Content-Security-Policy refuses eval, which ``page.wait_for_function`` uses for string
predicates; ``until`` polls through ``page.evaluate`` (run by the DevTools protocol) instead."""

from __future__ import annotations

import time

CHROMIUM = "/usr/bin/chromium"  # Debian's package (the project's rule: no Playwright-downloaded browser)
# No sandbox (containers run as root), no GPU, and nothing that phones home while a test runs offline.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright):
    """A headless Chromium from ``sync_playwright()``'s ``playwright``, with ``ARGS``."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)


def until(page, expression: str, timeout: float = 30.0, arg=None):
    """Poll the JavaScript ``expression`` (called with ``arg`` where it is a function) until it is truthy; its
    value, or AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression, arg)
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"still false after {timeout} s: {expression}")


def answer_trial(page, key: str) -> None:
    """On a study participant page: wait until the trial may be answered, press ``key``, and wait until the
    page moved on (another trial, training over, or the done screen)."""
    position = page.get_attribute("#stage", "data-position")
    training = page.get_attribute("#stage", "data-training")
    page.wait_for_selector("#stage[data-ready=true]", timeout=15_000)
    page.keyboard.press(key)
    until(
        page,
        "([p, t]) => !document.getElementById('done').hidden || "
        "document.getElementById('stage').dataset.position !== p || "
        "document.getElementById('stage').dataset.training !== t",
        timeout=15,
        arg=[position, training],
    )
