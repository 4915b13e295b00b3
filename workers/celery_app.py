"""The Celery application. Broker from settings: Redis in production, SQLite (kombu sqla) embedded."""
from __future__ import annotations

from celery import Celery
from kombu.transport import sqlalchemy as kombu_sqlalchemy

from app.settings import get_settings

TASK_QUEUE = "cpu"  # default; learned codecs may be routed to LEARNED_QUEUE (see app.services.queue)


# kombu's SQLAlchemy transport (the embedded broker) polls its table once a second by default, which adds
# up to a second of idle time per task; its transport options go to create_engine, so set it here.
EMBEDDED_BROKER_POLLING_SECONDS = 0.05
kombu_sqlalchemy.Transport.polling_interval = EMBEDDED_BROKER_POLLING_SECONDS


def make_celery() -> Celery:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = Celery("licbench", broker=settings.resolved_broker_url, include=["workers.tasks"])
    app.conf.update(
        task_default_queue=TASK_QUEUE,
        task_ignore_result=True,  # results go to our database, not a Celery backend
        task_acks_late=True,  # a task lost with its worker is redelivered; the unique result rule dedups
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=4,  # keep children fed between broker polls; tasks are short
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return app


celery_app = make_celery()
