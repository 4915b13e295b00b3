"""Hand tasks to the Celery broker and check that the broker answers."""
from __future__ import annotations

from collections.abc import Iterable

from app.services.jobs import TaskSpec


CPU_QUEUE = "cpu"


def queue_for(codec_kind: str, learned_queue: str) -> str:
    """Classical codecs run on CPU workers; learned and submitted ones on ``learned_queue`` (``gpu``
    where GPU workers exist, ``cpu`` by default)."""
    return CPU_QUEUE if codec_kind == "classical" else learned_queue


def enqueue(tasks: Iterable[TaskSpec], codec_kinds: dict[str, str]) -> int:
    """Send one Celery message per task to its queue; returns how many were sent."""
    from app.settings import get_settings
    from workers.celery_app import celery_app

    learned_queue = get_settings().learned_queue
    sent = 0
    with celery_app.producer_or_acquire() as producer:
        for t in tasks:
            celery_app.send_task("licbench.run_task", args=[t.job_id, t.image_id, t.codec, t.rate_point],
                                 queue=queue_for(codec_kinds.get(t.codec, "learned"), learned_queue),
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
