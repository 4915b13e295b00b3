"""GET /api/v1/health reports worker heartbeats and waiting tasks; a missing worker is not a 503 (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.benchmarks import upload_set


def test_health_reports_workers_and_waiting_tasks(api):
    from app.db.session import session_scope
    from app.db.tables import WorkerHeartbeat
    from workers.heartbeat import beat

    health = api.get("/api/v1/health")
    assert health.status_code == 200  # embedded broker answers; no worker is reported, not a 503
    body = health.json()
    assert body["workers"]["alive"] is False and "licbench worker" in body["workers"]["detail"]
    assert body["tasks_waiting"] == 0

    image_set = upload_set(api, "waiting", sizes=((32, 32), (32, 40)))
    api.post(
        "/api/v1/jobs",
        json={
            "image_set_id": image_set["id"],
            "metrics": ["psnr"],
            "codecs": [{"name": "jpeg", "rate_points": [30, 60, 90]}],
        },
    )
    assert api.get("/api/v1/health").json()["tasks_waiting"] == 6

    beat("host:123", "cpu")
    workers = api.get("/api/v1/health").json()["workers"]
    assert workers["alive"] is True and workers["count"] == 1 and workers["seconds_since_heartbeat"] < 5
    with session_scope() as session:
        session.get(WorkerHeartbeat, "host:123").beat_at = datetime.now(UTC) - timedelta(minutes=5)
    stale = api.get("/api/v1/health").json()["workers"]
    assert stale["alive"] is False and "no heartbeat for" in stale["detail"]
