"""No 503 once ``/health`` is back (issue 32): the API's pooled connections survive a Redis and a PostgreSQL restart.

``/health`` checks the database through the session pool and the broker on a fresh connection, while the routes
send tasks through Celery's producer pool and read through the same SQLAlchemy pool. Both pools hold connections
the restart cut. This test fills them (several requests at once), restarts each server and, as soon as it accepts
connections, sends a burst of job submissions and reads (before any ``/health`` call, which would flush a dead
database pool on its own), then checks ``/health`` and sends another burst: none may answer 503. What makes it pass: ``pool_pre_ping``
on PostgreSQL (``app/db/session.py``: a dead pooled connection is replaced at checkout) and Celery's publish retry
(``task_publish_retry``: a send on a dead producer connection reconnects and sends again).

The app runs in this process (no server start-up) on its own PostgreSQL and Redis.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.benchmarks import upload_set
from tests.support.faults import persistent_redis
from tests.support.restartable_postgres import restartable_postgres

pytestmark = pytest.mark.integration
BURST = 6  # concurrent requests: more than one pooled connection and producer in use


@pytest.fixture
def api_on_servers(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from app.db.migrate import upgrade_to_head
    from app.main import create_app
    from app.settings import get_settings
    from tests.support.accounts import authorize

    with restartable_postgres() as postgres, persistent_redis(tmp_path / "redis") as redis:
        monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("DATABASE_URL", postgres.url)
        monkeypatch.setenv("BROKER_URL", redis.url)
        get_settings.cache_clear()
        upgrade_to_head()
        with TestClient(create_app()) as client:
            authorize(client, "tester")
            yield client, postgres, redis
        get_settings.cache_clear()


def _burst(api, image_set_id: int, job_id: int) -> list[tuple[str, int, str]]:
    """``BURST`` job submissions and as many reads at once; (what, status, body) of each answer."""
    body = {"image_set_id": image_set_id, "metrics": ["psnr"], "codecs": [{"name": "jpeg", "rate_points": [40]}]}

    def submit(_):
        answer = api.post("/api/v1/jobs", json=body)
        return "POST /jobs", answer.status_code, answer.text[:200]

    def read(_):
        answer = api.get(f"/api/v1/jobs/{job_id}/results")
        return "GET /jobs/{id}/results", answer.status_code, answer.text[:200]

    with ThreadPoolExecutor(2 * BURST) as pool:
        return list(pool.map(submit, range(BURST))) + list(pool.map(read, range(BURST)))


def test_no_503_once_health_is_back_after_redis_and_postgres_restarts(api_on_servers):
    api, postgres, redis = api_on_servers
    image_set = upload_set(api, "recovery", sizes=((24, 32),))["id"]
    job = api.post(
        "/api/v1/jobs",
        json={"image_set_id": image_set, "metrics": ["psnr"], "codecs": [{"name": "jpeg", "rate_points": [60]}]},
    ).json()["id"]
    assert all(status < 300 for _, status, _ in _burst(api, image_set, job))  # the pools hold several connections
    for name, restart in (
        ("redis", lambda: (redis.shutdown(), time.sleep(0.5), redis.start())),
        ("postgres", lambda: (postgres.stop(), time.sleep(0.5), postgres.start())),
    ):
        restart()  # returns once the server accepts connections again; nothing in the app has noticed yet
        # First the routes alone, before any /health call could flush a pool: every pooled connection is dead.
        first = _burst(api, image_set, job)
        assert api.get("/api/v1/health").status_code == 200, name
        answers = first + _burst(api, image_set, job)
        failed = [a for a in answers if a[1] >= 500]
        assert not failed, f"after the {name} restart: {failed}"
        assert {status for _, status, _ in answers} <= {200, 202}, answers
