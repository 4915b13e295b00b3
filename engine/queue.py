"""Hand tasks to the Celery broker by task name and check that the broker answers.

The web side never imports the worker module: it sends ``licbench.run_task`` by name through a Celery
client built here from the settings (Celery's ``send_task``). The worker app (``workers.celery_app``) is
built from the same :func:`celery_app` configuration and registers the task under that name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

from celery import Celery

from app.settings import get_settings
from engine import embedded_broker
from engine.contract import MESSAGE_VERSION, TaskSpec
from models.base import CodecKind

CPU_QUEUE = "cpu"
RUN_TASK = "licbench.run_task"  # the name workers/tasks.py registers


def broker_transport_options(broker_url: str) -> dict[str, float]:
    """Redelivery settings of the broker behind ``broker_url``.

    Redis: ``visibility_timeout`` = ``BROKER_VISIBILITY_TIMEOUT_S`` (default 2 h, longer than the longest task:
    a message delivered but not acknowledged in that time is delivered again, so a shorter value would run a
    long task twice). Each worker looks for such messages when it starts and then every
    ``unacked_restore_interval`` (10 s, or half the timeout if that is shorter); ``unacked_restore_throttle`` 1
    makes every look scan Redis (kombu's default scans on every 10th only, so a dead worker's message came back
    up to 100 s after its timeout; one locked ZRANGE per worker every 10 s is cheap). Embedded SQLite broker:
    ``lease_seconds`` = ``EMBEDDED_BROKER_LEASE_S`` (30 s after its worker died, see
    :mod:`engine.embedded_broker`).
    """
    settings = get_settings()
    if broker_url.startswith(("redis://", "rediss://", "redis+socket://")):
        timeout = settings.broker_visibility_timeout_s
        return {
            "visibility_timeout": timeout,
            "unacked_restore_interval": min(10.0, timeout / 2),
            "unacked_restore_throttle": 1,
        }
    if embedded_broker.transport_for(broker_url) != broker_url:
        return {"lease_seconds": settings.embedded_broker_lease_s}
    return {}


def make_celery(broker_url: str, include: Iterable[str] = ()) -> Celery:
    """A Celery app on ``broker_url`` with licbench's settings; workers pass ``include=["workers.tasks"]``.
    A ``sqla+`` URL (the embedded default) runs on :mod:`engine.embedded_broker`'s transport."""
    url = embedded_broker.transport_for(broker_url)
    app = Celery("licbench", broker=url, include=list(include))
    app.conf.update(
        # Explicit read/write URLs: the `celery` command turns a BROKER_URL variable into CELERY_BROKER_URL,
        # which would override ``broker`` (and skip the embedded transport); these two come before it.
        broker_read_url=url,
        broker_write_url=url,
        broker_transport_options=broker_transport_options(broker_url),
        task_default_queue=CPU_QUEUE,
        task_ignore_result=True,  # results go to our database, not a Celery backend
        task_acks_late=True,  # a task lost with its worker is redelivered; the unique result rule dedups
        task_reject_on_worker_lost=True,
        # How long the pool waits for a result from a pool process that died before it declares the task lost
        # (and requeues it). Results go to our database, not through the pool, so Celery's 10 s buys nothing.
        worker_lost_wait=2.0,
        # One message per worker process: a task covers all rate points of an image x codec (seconds to
        # minutes), so prefetching more gains little and parks tasks behind a busy process -- a requeued task
        # would wait behind them, and a broker connection lost would strand them until the visibility timeout.
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return app


class CeleryClients:
    """Producer-side Celery apps, one per broker URL (a changed ``DATA_DIR``/``BROKER_URL`` gets its own). One per
    process (:data:`clients`); a test calls :meth:`reset` or makes its own."""

    def __init__(self) -> None:
        self._apps: dict[str, Celery] = {}
        self._lock = threading.Lock()

    def for_url(self, broker_url: str) -> Celery:
        with self._lock:
            if broker_url not in self._apps:
                while len(self._apps) >= KEPT_CLIENTS:  # the oldest URL (settings changed: tests, a restart)
                    self._apps.pop(next(iter(self._apps)))
                self._apps[broker_url] = make_celery(broker_url)
            return self._apps[broker_url]

    def reset(self) -> None:
        """Forget every app: the next :meth:`for_url` builds a fresh one."""
        with self._lock:
            self._apps.clear()


clients = CeleryClients()
KEPT_CLIENTS = 4


def celery_client() -> Celery:
    """The producer-side Celery app for the configured broker (:data:`clients`)."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return clients.for_url(settings.resolved_broker_url)


def queue_for(codec_kind: str, learned_queue: str) -> str:
    """Classical codecs run on CPU workers; learned and submitted ones on ``learned_queue`` (``gpu``
    where GPU workers exist, ``cpu`` by default)."""
    return CPU_QUEUE if codec_kind == CodecKind.CLASSICAL else learned_queue


def enqueue(tasks: Iterable[TaskSpec], codec_kinds: Mapping[str, str]) -> int:
    """Send one Celery message per task (image x codec, all its rate points) to its queue; returns how
    many were sent."""
    client = celery_client()
    learned_queue = get_settings().learned_queue
    # In the order given: a job's tasks come in run order (``jobs.run_order``). Which task a message runs is
    # decided when a worker takes it (``engine.scheduling``: fair between jobs), so order here matters little.
    sent = 0
    with client.producer_or_acquire() as producer:
        for t in tasks:
            client.send_task(
                RUN_TASK,
                args=t.message_args(),
                kwargs={"message_version": MESSAGE_VERSION},
                queue=queue_for(codec_kinds.get(t.codec, CodecKind.LEARNED), learned_queue),
                producer=producer,
            )
            sent += 1
    return sent


def waiting_messages(queue_name: str) -> int | None:
    """Messages waiting in ``queue_name`` on the broker (not yet delivered to a worker); None when the broker
    cannot say. kombu's virtual transports (Redis, the embedded one) count them in ``Channel._size``, as
    ``queue_declare(passive=True)`` does, without its NOT_FOUND for a queue Redis dropped when it emptied."""
    try:
        with celery_client().connection_for_read() as connection:
            return int(connection.default_channel._size(queue_name))
    except Exception:  # any transport error: the sweep leaves the queue alone this pass
        return None


def broker_status() -> str:
    """``ok`` when the broker accepts a connection, else the error."""
    try:
        with celery_client().connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
        return "ok"
    except Exception as exc:  # any transport error
        return f"error: {type(exc).__name__}: {exc}"
