"""Celery tasks: thin shims from a broker message to the engine.

``licbench.run_task`` reads its message as a :class:`engine.contract.TaskSpec` (``TaskSpec.from_message``: every
message version up to this worker's) and runs it with :func:`engine.benchmark.run_task_retrying`. Each task runs
under Celery's soft and hard time limits (``TASK_SOFT_TIME_LIMIT_S``, ``TASK_HARD_TIME_LIMIT_S``): at the soft limit
the rate points still missing are recorded as failed with the reason; a task killed at the hard limit is re-queued
or failed by the sweep (``engine.task_state``). Database errors are retried with back-off inside the task, so a
database outage never drops a task.
"""

from __future__ import annotations

import os

import torch
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init

from app.db.session import session_factory
from app.services.storage import default_storage
from app.settings import get_settings
from engine import benchmark
from engine.contract import TaskSpec
from engine.queue import RUN_TASK

_settings = get_settings()
SOFT_TIME_LIMIT_S = _settings.task_soft_time_limit_s
HARD_TIME_LIMIT_S = max(_settings.task_hard_time_limit_s, SOFT_TIME_LIMIT_S + 1)


@worker_process_init.connect
def _init_worker_process(**_: object) -> None:
    """Share the cores between worker processes instead of oversubscribing them."""
    concurrency = max(1, get_settings().worker_concurrency)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // concurrency))


# bound to the worker app that includes this module; no import back
@shared_task(name=RUN_TASK, soft_time_limit=SOFT_TIME_LIMIT_S, time_limit=HARD_TIME_LIMIT_S)
def run_task(job_id: int, image_id: int, codec: str, rate_points: list[float] | float, message_version: int = 1) -> str:
    """Encode, decode, score and store one image x codec at each rate point (the message's arguments:
    ``TaskSpec.message_args`` plus ``message_version``; see ``TaskSpec.from_message`` for older formats)."""
    return benchmark.run_task_retrying(
        session_factory(),
        default_storage(),
        TaskSpec.from_message(job_id, image_id, codec, rate_points, message_version),
        abort_on=(SoftTimeLimitExceeded,),
        abort_reason=f"soft time limit of {SOFT_TIME_LIMIT_S:g} s exceeded (TASK_SOFT_TIME_LIMIT_S); "
        f"rate points not finished by then are failed",
    )
