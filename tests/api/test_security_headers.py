"""Every response carries the security headers; the CSP allows only this origin's scripts (plus nonce-tagged
inline blocks, a fresh nonce per response); the docs pages keep working with their own inline bootstrap."""

from __future__ import annotations

import re

import pytest

from app.api.security import MAX_ID

EXPECTED = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "same-origin"}


def _directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize(
    "path, status",
    [
        ("/", 200),
        ("/api/v1/health", 200),
        ("/api/v1/codecs", 200),
        ("/static/style.css", 200),
        ("/vendor/plotly.min.js", 200),
        ("/api/v1/jobs/424242", 404),
        ("/no-such-page", 404),
        (f"/api/v1/jobs/{2**64}", 404),
    ],
)
def test_every_response_carries_the_security_headers(api, path, status):
    response = api.get(path)
    assert response.status_code == status
    for name, value in EXPECTED.items():
        assert response.headers[name] == value
    policy = _directives(response.headers["content-security-policy"])
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["script-src"].startswith("script-src 'self' 'nonce-")
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    assert "*" not in response.headers["content-security-policy"]


def test_nonce_is_fresh_per_response_and_tags_only_our_inline_scripts(api):
    nonces = set()
    for _ in range(3):
        policy = api.get("/").headers["content-security-policy"]
        nonces.add(re.search(r"'nonce-([^']+)'", policy).group(1))
    assert len(nonces) == 3


def test_pages_have_no_untagged_inline_script(api):
    html = api.get("/").text
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or "nonce=" in tag, tag


def test_docs_pages_load_with_their_own_policy(api):
    for path in ("/docs", "/redoc"):
        response = api.get(path)
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"
        policy = _directives(response.headers["content-security-policy"])
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"
        assert "nonce-" not in policy["script-src"]


def test_max_id_is_the_database_integer_limit():
    assert MAX_ID == 2**31 - 1
