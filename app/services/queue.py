"""Hand tasks to the Celery broker and check that the broker answers."""
from __future__ import annotations

from collections.abc import Iterable

from app.services.jobs import TaskSpec


def enqueue(tasks: Iterable[TaskSpec]) -> int:
    """Send one Celery message per task; returns how many were sent."""
    from workers.celery_app import celery_app

    sent = 0
    with celery_app.producer_or_acquire() as producer:
        for t in tasks:
            celery_app.send_task("licbench.run_task", args=[t.job_id, t.image_id, t.codec, t.rate_point],
                                 producer=producer)
            sent += 1
    return sent


def broker_status() -> str:
    """``ok`` when the broker accepts a connection, else the error."""
    from workers.celery_app import celery_app

    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
        return "ok"
    except Exception as exc:  # any transport error
        return f"error: {type(exc).__name__}: {exc}"
