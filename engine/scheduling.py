"""Which task a worker runs when it takes a message: fair between jobs, in run order within a job.

A broker queue is first in, first out, so a job queued behind a 300-task demo would wait for all of it. Instead, every
``licbench.run_task`` message is a turn on a worker: the worker runs the message's own task unless another active job
with queued tasks on the same broker queue has fewer tasks running, in which case it runs that job's next queued task
(lowest id: ``jobs.create_job`` numbers a job's tasks in run order: each codec's cheapest first, then longest first).
Every task still has its own message, so the number of turns matches the number of tasks; a message whose task already
ran elsewhere takes the next fair task, or finds nothing and is acknowledged (the claim refuses a finished task). This
works the same on Redis and on the embedded broker, needs no extra queue, and keeps the message format (a contract).

A message whose task is running keeps its task when it is a redelivery (the process that claimed it is gone) or
the same worker's database retry, so fault recovery is unchanged; when the task runs in a live process (taken in
another message's turn), the message takes the next fair task instead of running it twice, or nothing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.enums import JobStatus, TaskState
from app.db.tables import Job, Task
from engine.contract import TaskSpec


@dataclass(frozen=True)
class QueueScope:
    """The codecs whose tasks share one broker queue with a message: classical codecs on the ``cpu`` queue,
    learned ones on ``learned_queue`` (``engine`` queue routing); one queue when ``learned_queue`` is ``cpu``."""

    classical: frozenset[str]
    learned_queue: str
    cpu_queue: str = "cpu"

    def condition(self, codec: str):
        """SQL condition: a task's codec goes to the same broker queue as ``codec``."""
        if self.learned_queue == self.cpu_queue:
            return True
        if codec in self.classical:
            return Task.codec.in_(self.classical)
        return Task.codec.not_in(self.classical)


def _active_jobs():
    return select(Job.id).where(Job.status.in_(JobStatus.active()))


def fair_order(session: Session, scope: QueueScope, codec: str) -> list[tuple[int, int, int]]:
    """``(tasks running, job id, next queued task id)`` of every active job with a queued task on ``codec``'s
    queue, the job to serve first first (fewest running, then oldest)."""
    queued = dict(
        session.execute(
            select(Task.job_id, func.min(Task.id))
            .where(Task.state == TaskState.QUEUED, Task.job_id.in_(_active_jobs()), scope.condition(codec))
            .group_by(Task.job_id)
        ).all()
    )
    if not queued:
        return []
    running = dict(
        session.execute(
            select(Task.job_id, func.count())
            .where(Task.state == TaskState.RUNNING, Task.job_id.in_(queued))
            .group_by(Task.job_id)
        ).all()
    )
    return sorted((running.get(job_id, 0), job_id, task_id) for job_id, task_id in queued.items())


def running_elsewhere(
    worker: str | None, heartbeat_at: datetime | None, me: str, fresh_s: float, now: datetime | None = None
) -> bool:
    """Whether a task claimed by ``worker`` (``hostname:pid``) still runs in another live process: on this host,
    whether that process exists; on another, whether its heartbeat is younger than ``fresh_s``."""
    if not worker or worker == me:
        return False
    host, _, pid = worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    if heartbeat_at is None:
        return False
    beat = heartbeat_at if heartbeat_at.tzinfo else heartbeat_at.replace(tzinfo=UTC)
    return ((now or datetime.now(UTC)) - beat).total_seconds() < fresh_s


def choose(
    session: Session, message: TaskSpec, scope: QueueScope, me: str, fresh_s: float, exclude: Collection[int] = ()
) -> tuple[TaskSpec | None, bool]:
    """The task to run for ``message`` (None: nothing to do), and whether it is another task than the message's own
    (claim it only if still queued: another worker may take it first). Task ids in ``exclude`` (taken meanwhile)
    are skipped; ``me`` is this process as a task's worker, ``fresh_s`` the heartbeat age of a live worker."""
    own = session.execute(
        select(Task.id, Task.state, Task.worker, Task.heartbeat_at, Job.status)
        .join(Job, Job.id == Task.job_id)
        .where(Task.job_id == message.job_id, Task.image_id == message.image_id, Task.codec == message.codec)
    ).first()
    if own is None:
        return message, False  # a message older than the tasks table: unchanged
    busy = own.state == TaskState.RUNNING and running_elsewhere(own.worker, own.heartbeat_at, me, fresh_s)
    if own.state == TaskState.RUNNING and not busy:
        return message, False  # a redelivery after its worker died, or this worker's retry: unchanged
    order = [entry for entry in fair_order(session, scope, message.codec) if entry[2] not in exclude]
    if not order:
        return (None if busy else message), False
    own_turn = own.state == TaskState.QUEUED and own.status in JobStatus.active() and own.id not in exclude
    if own_turn:
        running_here = next((r for r, job_id, _ in order if job_id == message.job_id), None)
        if running_here is None or running_here <= order[0][0]:
            return message, False
    task = session.get(Task, order[0][2])
    if task is None:
        return message, False
    return TaskSpec.of(task), True
