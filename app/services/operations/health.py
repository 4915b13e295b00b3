"""Worker liveness and waiting work for ``GET /api/v1/health`` (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.enums import JobStatus
from app.db.tables import Job, WorkerHeartbeat
from app.settings import get_settings


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite drops the zone


def workers(session: Session) -> dict:
    """Alive when a worker wrote its heartbeat within three intervals (at least 30 s)."""
    interval = get_settings().worker_heartbeat_seconds
    window = timedelta(seconds=max(30.0, 3 * interval))
    now = datetime.now(UTC)
    beats = [_aware(b) for b in session.scalars(select(WorkerHeartbeat.beat_at))]
    recent = [b for b in beats if now - b <= window]
    newest = max(beats) if beats else None
    if recent:
        detail = f"{len(recent)} worker(s) alive"
    elif newest is None:
        detail = "no worker has written a heartbeat: start one with `licbench worker` (or `make run`)"
    else:
        detail = (
            f"no heartbeat for {(now - newest).total_seconds():.0f} s (expected every {interval:g} s): "
            "is the worker running?"
        )
    return {
        "alive": bool(recent),
        "count": len(recent),
        "last_heartbeat": newest,
        "seconds_since_heartbeat": (now - newest).total_seconds() if newest else None,
        "detail": detail,
    }


def tasks_waiting(session: Session) -> int:
    """Rate-point tasks of queued and running jobs that have no result or failure yet."""
    remaining = session.scalar(select(func.sum(Job.total - Job.done)).where(Job.status.in_(JobStatus.active())))
    return int(remaining or 0)
