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
from datetime import datetime, timezone

from celery.signals import worker_ready, worker_shutdown

log = logging.getLogger(__name__)
_stop = threading.Event()
_state: dict[str, str] = {}


def beat(worker_id: str, queues: str) -> None:
    """Write (insert or update) this worker's heartbeat row now."""
    from app.db.session import session_scope
    from app.db.tables import WorkerHeartbeat

    now = datetime.now(timezone.utc)
    with session_scope() as session:
        row = session.get(WorkerHeartbeat, worker_id)
        if row is None:
            session.add(WorkerHeartbeat(id=worker_id, queues=queues[:200], started_at=now, beat_at=now))
        else:
            row.beat_at = now


def _loop(worker_id: str, queues: str, interval: float) -> None:
    while not _stop.is_set():
        try:
            beat(worker_id, queues)
        except Exception as exc:  # the database may be briefly away; the next beat retries
            log.warning("worker heartbeat failed: %s", exc)
        _stop.wait(interval)


def sweep_once() -> None:
    """One sweep pass now (logged; errors are logged and the next pass retries)."""
    from app.db.session import session_factory
    from app.settings import get_settings
    from engine import task_state

    with session_factory()() as session:
        report = task_state.sweep(session, datetime.now(timezone.utc), get_settings())
    if report.requeued or report.failed or report.resent or report.closed_jobs:
        log.info(
            "task sweep: re-queued %s, failed %s, sent again %s, closed jobs %s",
            report.requeued,
            sorted(report.failed),
            report.resent,
            report.closed_jobs,
        )


def _sweep_loop(interval: float) -> None:
    while not _stop.wait(interval):
        try:
            sweep_once()
        except Exception as exc:  # the database may be briefly away; the next pass retries
            log.warning("task sweep failed: %s", exc)


@worker_ready.connect
def start_sweep(**_kwargs) -> None:
    from app.settings import get_settings

    threading.Thread(
        target=_sweep_loop, args=(get_settings().sweep_interval_s,), name="licbench-sweep", daemon=True
    ).start()


@worker_ready.connect
def start_heartbeat(sender=None, **_kwargs) -> None:
    from app.settings import get_settings

    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    try:
        queues = ",".join(sorted(q.name for q in sender.app.amqp.queues.consume_from.values()))
    except Exception:
        queues = ""
    _state["id"] = worker_id
    _stop.clear()
    thread = threading.Thread(
        target=_loop,
        args=(worker_id, queues, get_settings().worker_heartbeat_seconds),
        name="licbench-heartbeat",
        daemon=True,
    )
    thread.start()


@worker_shutdown.connect
def stop_heartbeat(**_kwargs) -> None:
    _stop.set()
    worker_id = _state.get("id")
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
