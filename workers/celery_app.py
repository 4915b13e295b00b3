"""The worker's Celery application. Broker from settings: Redis in production, SQLite (kombu sqla) embedded.

Configured by ``engine.queue.make_celery`` (the same configuration the web side sends with); this module
adds the task module. Only the worker side imports it (``celery -A workers.celery_app worker``).
"""

from __future__ import annotations

from celery.signals import worker_init, worker_process_init

from app.settings import get_settings
from engine.queue import make_celery


def _worker_app():
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_celery(settings.resolved_broker_url, include=["workers.tasks", "workers.analysis_tasks"])


celery_app = _worker_app()

import workers.heartbeat  # noqa: E402,F401  (connects the heartbeat to the worker's signals)


@worker_process_init.connect
def _own_database_connections(**_kwargs) -> None:
    """A pool process forked from the main process (also the one that replaces a killed pool process) must not
    reuse the main process's pooled database connections, which its heartbeat thread keeps using: two processes
    on one connection break it ("server closed the connection unexpectedly"). SQLAlchemy's advice for
    forked processes: drop the inherited pool without closing it (``Engine.dispose(close=False)``)."""
    from app.db.session import session_factory

    session_factory().kw["bind"].dispose(close=False)


@worker_init.connect
def _refuse_newer_schema(**_kwargs) -> None:
    """A worker does not start on a database a newer licbench migrated (issue 32): the error stops it."""
    from app.db.migrate import check_schema_not_newer

    check_schema_not_newer()
