"""Celery tasks: thin wrappers that call the benchmark service."""
from __future__ import annotations

import os

import torch
from celery import shared_task
from celery.signals import worker_process_init

from app.db.session import session_factory
from app.services import benchmark, jobs
from app.services.queue import RUN_TASK
from app.services.storage import default_storage
from app.settings import get_settings


@worker_process_init.connect
def _init_worker_process(**_: object) -> None:
    """Share the cores between worker processes instead of oversubscribing them."""
    concurrency = max(1, get_settings().worker_concurrency)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // concurrency))


@shared_task(name=RUN_TASK)  # bound to the worker app that includes this module; no import back
def run_task(job_id: int, image_id: int, codec: str, rate_points: list[float] | float) -> str:
    """Encode, decode, score and store one image x codec at each rate point (a list; a single number
    from a message queued before tasks covered all rate points is accepted)."""
    task = jobs.TaskSpec(job_id, image_id, codec, rate_points)
    return benchmark.run_task(session_factory(), default_storage(), task)
