"""Worker heartbeat (issue 12): the worker's main process writes ``worker_heartbeats`` every
``WORKER_HEARTBEAT_SECONDS`` from a daemon thread started on Celery's ``worker_ready`` signal, and removes its
row on ``worker_shutdown``. It goes through the database, so it works on every broker, including the embedded
SQLite one where Celery's remote control (``inspect ping``) does not.

The same signal starts the task sweep (issue 13, ``engine.task_state.sweep``) in a second daemon thread,
every ``SWEEP_INTERVAL_S``: every worker sweeps, and the sweep's guarded updates make that harmless. (Running
tasks refresh their own heartbeat in ``tasks.heartbeat_at`` from the pool process that runs them.)"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import UTC, datetime
from typing import Any

from celery.signals import worker_ready, worker_shutdown

log = logging.getLogger(__name__)


class WorkerLife:
    """This worker process's heartbeat and sweep threads: started on ``worker_ready``, stopped on
    ``worker_shutdown`` (then its heartbeat row goes). One per process (:data:`life`); a test makes its own or
    calls :meth:`reset`."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.worker_id: str | None = None

    def start_heartbeat(self, worker_id: str, queues: str, interval: float) -> None:
        self.worker_id = worker_id
        self.stop.clear()
        threading.Thread(
            target=_loop, args=(self, worker_id, queues, interval), name="licbench-heartbeat", daemon=True
        ).start()

    def start_sweep(self, interval: float) -> None:
        threading.Thread(target=_sweep_loop, args=(self, interval), name="licbench-sweep", daemon=True).start()

    def shut_down(self) -> str | None:
        """Stop both threads; returns the worker id whose heartbeat row is to be removed (None: never started)."""
        self.stop.set()
        return self.worker_id

    def reset(self) -> None:
        """Stop the threads and forget the worker id, as a fresh process."""
        self.stop.set()
        self.stop = threading.Event()
        self.worker_id = None


life = WorkerLife()


def beat(worker_id: str, queues: str) -> None:
    """Write (insert or update) this worker's heartbeat row now."""
    from app.db.session import session_scope
    from app.db.tables import WorkerHeartbeat

    now = datetime.now(UTC)
    with session_scope() as session:
        row = session.get(WorkerHeartbeat, worker_id)
        if row is None:
            session.add(WorkerHeartbeat(id=worker_id, queues=queues[:200], started_at=now, beat_at=now))
        else:
            row.beat_at = now


def _loop(owner: WorkerLife, worker_id: str, queues: str, interval: float) -> None:
    stop = owner.stop
    while not stop.is_set():
        try:
            beat(worker_id, queues)
        except Exception as exc:  # the database may be briefly away; the next beat retries
            log.warning("worker heartbeat failed: %s", exc)
        stop.wait(interval)


def sweep_once() -> None:
    """One sweep pass now (logged; errors are logged and the next pass retries)."""
    from app.db.session import session_factory
    from app.settings import get_settings
    from engine import task_state

    with session_factory()() as session:
        report = task_state.sweep(session, datetime.now(UTC), get_settings())
    if report.requeued or report.failed or report.resent or report.closed_jobs:
        log.info(
            "task sweep: re-queued %s, failed %s, sent again %s, closed jobs %s",
            report.requeued,
            sorted(report.failed),
            report.resent,
            report.closed_jobs,
        )


def _sweep_loop(owner: WorkerLife, interval: float) -> None:
    stop = owner.stop
    while not stop.wait(interval):
        try:
            sweep_once()
        except Exception as exc:  # the database may be briefly away; the next pass retries
            log.warning("task sweep failed: %s", exc)


@worker_ready.connect
def start_sweep(**_kwargs: object) -> None:
    from app.settings import get_settings

    life.start_sweep(get_settings().sweep_interval_s)


@worker_ready.connect
def start_heartbeat(sender: Any = None, **_kwargs: object) -> None:
    from app.settings import get_settings

    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    try:
        queues = ",".join(sorted(q.name for q in sender.app.amqp.queues.consume_from.values()))
    except Exception:
        queues = ""
    life.start_heartbeat(worker_id, queues, get_settings().worker_heartbeat_seconds)


@worker_shutdown.connect
def stop_heartbeat(**_kwargs: object) -> None:
    worker_id = life.shut_down()
    if not worker_id:
        return
    try:
        from app.db.session import session_scope
        from app.db.tables import WorkerHeartbeat

        with session_scope() as session:
            row = session.get(WorkerHeartbeat, worker_id)
            if row is not None:
                session.delete(row)
    except Exception as exc:
        log.warning("could not remove the worker heartbeat: %s", exc)
