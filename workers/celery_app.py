"""The worker's Celery application. Broker from settings: Redis in production, SQLite (kombu sqla) embedded.

Configured by ``app.services.queue.make_celery`` (the same configuration the web side sends with); this module
adds the task module. Only the worker side imports it (``celery -A workers.celery_app worker``).
"""
from __future__ import annotations

from app.services.queue import make_celery
from app.settings import get_settings


def _worker_app():
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_celery(settings.resolved_broker_url, include=["workers.tasks", "workers.analysis_tasks"])


celery_app = _worker_app()

import workers.heartbeat  # noqa: E402,F401  (connects the heartbeat to the worker's signals)
