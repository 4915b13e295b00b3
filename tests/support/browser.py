"""Playwright helpers. The pages' Content-Security-Policy refuses eval, which ``page.wait_for_function`` uses
for string predicates; ``until`` polls through ``page.evaluate`` (run by the DevTools protocol) instead."""

from __future__ import annotations

import time


def until(page, expression: str, timeout: float = 30.0):
    """Poll the JavaScript ``expression`` until it is truthy; its value, or AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"still false after {timeout} s: {expression}")
