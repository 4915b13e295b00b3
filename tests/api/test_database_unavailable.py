"""Issue 13: while the database is unreachable the API answers 503 JSON with Retry-After (not a 500 or a reset
connection), for reads, writes and pages alike."""

from __future__ import annotations

import socket

import pytest


def _closed_port() -> int:
    with socket.socket() as sock:  # a port nobody listens on (bound, then released)
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def dead_database_app(settings_env, monkeypatch):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://licbench:x@127.0.0.1:{_closed_port()}/licbench")
    get_settings.cache_clear()
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/v1/jobs"),
        ("GET", "/api/v1/jobs/1"),
        ("GET", "/api/v1/jobs/1/tasks"),
        ("GET", "/api/v1/image-sets"),
        ("POST", "/api/v1/jobs/1/retry"),
        ("POST", "/api/v1/jobs/1/cancel"),
        ("GET", "/jobs/1"),
    ],
)
def test_requests_get_503_json_with_retry_after(dead_database_app, method, path):
    headers = {"Authorization": "Bearer some-token"} if method == "POST" else {}
    answer = dead_database_app.request(method, path, headers=headers)
    assert answer.status_code == 503, answer.text
    assert answer.json() == {"detail": "database unavailable, retry later"}
    assert int(answer.headers["Retry-After"]) > 0
