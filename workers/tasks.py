"""Celery tasks: thin wrappers that call the benchmark service.

Each task runs under Celery's soft and hard time limits (``TASK_SOFT_TIME_LIMIT_S``, ``TASK_HARD_TIME_LIMIT_S``):
at the soft limit the rate points still missing are recorded as failed with the reason; a task killed at the hard
limit is re-queued or failed by the sweep (``engine.task_state``). Database errors are retried with back-off
inside the task (``benchmark.run_task_retrying``), so a database outage never drops a task.
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
from engine.queue import MESSAGE_VERSION, RUN_TASK

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
    """Encode, decode, score and store one image x codec at each rate point (a list; a single number
    from a message queued before tasks covered all rate points is accepted). ``message_version``
    (``engine.queue.MESSAGE_VERSION``) is absent from messages queued before it existed: 1."""
    if message_version > MESSAGE_VERSION:  # sent by a newer licbench: refuse rather than misread it
        raise ValueError(
            f"task message version {message_version} is newer than this worker's {MESSAGE_VERSION}: upgrade the worker"
        )
    task = TaskSpec(job_id, image_id, codec, rate_points)
    return benchmark.run_task_retrying(
        session_factory(),
        default_storage(),
        task,
        abort_on=(SoftTimeLimitExceeded,),
        abort_reason=f"soft time limit of {SOFT_TIME_LIMIT_S:g} s exceeded (TASK_SOFT_TIME_LIMIT_S); "
        f"rate points not finished by then are failed",
    )
