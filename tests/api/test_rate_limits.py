"""Issue 13: login and upload rate limits per client IP and per user: 429 JSON with Retry-After."""

from __future__ import annotations

import re

import pytest

from tests.support.accounts import make_user
from tests.support.images import png_bytes, random_photo

PNG = png_bytes(random_photo(24, 32, seed=3))


@pytest.fixture
def limits(monkeypatch):
    """Set rate-limit settings for the rest of the test (the limiter reads them on every request)."""
    from app.settings import get_settings

    def apply(**values: int) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key.upper(), str(value))
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()


def _login(client, name: str, password: str):
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": csrf}, follow_redirects=False)


def _upload(client, headers=None):
    return client.post(
        "/api/v1/image-sets", data={"name": "r"}, files=[("files", ("a.png", PNG, "image/png"))], headers=headers or {}
    )


def _assert_429(response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "too many" in response.json()["detail"]
    assert int(response.headers["Retry-After"]) >= 1


def test_failed_logins_per_user_name_lock_that_name_even_for_the_right_password(api, limits):
    from fastapi.testclient import TestClient

    limits(login_attempts_per_minute=100, login_failures_per_user_per_minute=3)
    erin = make_user("erin")
    make_user("frank")
    browser = TestClient(api.app)
    for _ in range(3):
        assert _login(browser, "erin", "guess").status_code == 401
    refused = _login(browser, "Erin ", erin.password)  # the same account, however the name is written
    _assert_429(refused)
    assert 10 <= int(refused.headers["Retry-After"]) <= 20  # 3 per minute: one failure forgiven every 20 s
    assert "licbench_session" not in refused.headers.get("set-cookie", "")
    assert _login(browser, "frank", "pw-frank-0123456789").status_code == 303  # other users are not affected


def test_login_attempts_per_client_ip(api, limits):
    from fastapi.testclient import TestClient

    limits(login_attempts_per_minute=4, login_failures_per_user_per_minute=100)
    gina = make_user("gina")
    assert _login(TestClient(api.app), "gina", gina.password).status_code == 303  # successes count too
    for name in ("x1", "x2", "x3"):  # each a fresh browser: the address, not the cookie jar, is counted
        assert _login(TestClient(api.app), name, "guess").status_code == 401
    _assert_429(_login(TestClient(api.app), "gina", gina.password))


def test_uploads_per_user_and_per_client_ip(api, limits):
    limits(uploads_per_minute=2)
    hank = make_user("hank")
    assert _upload(api).status_code == 201
    assert _upload(api).status_code == 201
    refused = _upload(api)
    _assert_429(refused)
    assert 15 <= int(refused.headers["Retry-After"]) <= 30  # 2 per minute: one every 30 s
    # same client address ("testclient"), another user: the address's bucket is empty too
    _assert_429(_upload(api, hank.headers))
    # the limit covers every upload route, and a refused upload stored nothing
    curve = api.post("/api/v1/reference-curves", files={"file": ("c.json", b"{}", "application/json")})
    _assert_429(curve)
    assert api.get("/api/v1/image-sets").headers["X-Total-Count"] == "2"


def test_limit_zero_turns_uploads_limit_off_and_anonymous_uploads_still_get_401(api, limits):
    limits(uploads_per_minute=0)
    assert all(_upload(api).status_code == 201 for _ in range(5))
    assert _upload(api, {"Authorization": ""}).status_code == 401
