"""Statuses stored in the database and sent over REST, shared by the web side and the workers.

``StrEnum`` members compare equal to (and serialise as) their plain string values, so the JSON answers and
the ``jobs.status`` column keep the same strings.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """Lifecycle of a job: queued -> running -> succeeded | failed | cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def active(cls) -> tuple[JobStatus, ...]:
        """Statuses in which tasks still run and the job can be cancelled."""
        return (cls.QUEUED, cls.RUNNING)


class TaskState(StrEnum):
    """Lifecycle of one task (image x codec, all its rate points) in the ``tasks`` table (issue 13):
    queued -> running (claimed by a worker, attempts + 1) -> done | failed | cancelled (the job was); the sweep puts a running task whose
    worker vanished back to queued, and ``POST /jobs/{id}/retry`` puts failed ones back to queued."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"  # every rate point has its result row
    FAILED = "failed"  # at least one rate point failed (recorded as a TaskFailure row with the reason)
    CANCELLED = "cancelled"  # its job was cancelled before the task ran (or finished) every rate point

    @classmethod
    def unfinished(cls) -> tuple[TaskState, ...]:
        """States in which the task still owes rows to its job."""
        return (cls.QUEUED, cls.RUNNING)


class TaskOutcome(StrEnum):
    """What one task (image x codec, all its rate points) did when a worker ran it."""

    STORED = "stored"  # result row written
    DUPLICATE = "duplicate"  # a redelivered copy: the result already existed
    FAILED = "failed"  # recorded as a TaskFailure row
    SKIPPED = "skipped"  # its job is no longer active (cancelled or finished)
    JOB_MISSING = "job missing"  # its job row is gone
