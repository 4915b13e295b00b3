"""Create jobs (validated selection -> one task per image x codec covering its rate points), track and read them.

A job's ``total`` and ``done`` count result rows (image x codec x rate point), not tasks: ``done`` grows by one in
the same transaction as each stored result or recorded failure. Each task has a row in ``tasks`` (issue 13),
written here with the job; the job is finished when none of its tasks is queued or running.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import CursorResult, delete, func, insert, select, update
from sqlalchemy.orm import Session

from app.db.enums import JobStatus, TaskState
from app.db.tables import Job, Result, Task, TaskFailure
from app.services.datasets.image_sets import get_image_set
from app.services.errors import Conflict, Invalid, NotFound
from app.services.jobs import catalog
from app.settings import get_settings
from engine.contract import CodecSelection, CodecSweep, JobRequest, JobSpec, RatePoint, TaskSpec, estimated_seconds
from metrics import registry as metric_registry
from models.base import CodecError

DEFAULT_METRICS = ("psnr", "ms-ssim")
ACTIVE = JobStatus.active()


def _validate_codecs(session: Session, selection: list[CodecSelection]) -> list[CodecSweep]:
    """Each named codec once, with its rate points validated by its ``RateSpec`` (sorted, merged)."""
    if not selection:
        raise Invalid("field 'codecs' must name at least one codec")
    known = catalog.codecs(session)
    out: dict[str, list[RatePoint]] = {}
    for entry in selection:
        codec = known.get(entry.name)
        if codec is None:
            raise Invalid(f"unknown codec {entry.name!r}; known codecs: {', '.join(known)}")
        availability = codec.availability()
        if not availability.available:
            raise Invalid(f"codec {entry.name!r} is not available: {availability.reason}")
        points = list(codec.rate.points) if entry.rate_points is None else entry.rate_points
        if not points:
            raise Invalid(f"codec {entry.name!r}: 'rate_points' must be a non-empty list")
        try:
            values = [codec.rate.validate(p) for p in points]
        except CodecError as exc:
            raise Invalid(f"codec {entry.name!r}: {exc}") from None
        merged = out.setdefault(entry.name, [])
        merged.extend(v for v in values if v not in merged)
    return [CodecSweep(name, tuple(sorted(points))) for name, points in out.items()]


def _validate_metrics(names: list[str] | None) -> list[str]:
    if not names:
        names = list(DEFAULT_METRICS)
    known = metric_registry.metric_names()
    out: list[str] = []
    for name in names:
        if name not in known:
            raise Invalid(f"unknown metric {name!r}; known metrics: {', '.join(known)}")
        availability = catalog.registry_metrics()[name].availability()
        if not availability.available:
            raise Invalid(f"metric {name!r} is not available: {availability.reason}")
        if name not in out:
            out.append(name)
    return out


def run_order(costs: dict[TaskSpec, float]) -> list[TaskSpec]:
    """A job's tasks in the order to run them: first each codec's cheapest task, cheapest first (its curve on one
    image, so the RD plot and a BD-rate on the shared image show every codec early), then the rest longest first
    (stable among equals). Task ids follow this order, and the engine runs a job's queued tasks by id.

    Longest first after the opening round is Graham's LPT rule (Graham, "Bounds on multiprocessing timing
    anomalies", 1969): the workers end on short tasks together, instead of one worker running the last long
    learned-codec task while the others idle (8% of the worker-seconds of ``benchmarks/pipeline.py`` went to
    that tail when the rest also ran cheapest first)."""
    first: dict[str, TaskSpec] = {}
    for spec in sorted(costs, key=costs.__getitem__):
        first.setdefault(spec.codec, spec)
    opening = list(first.values())  # already cheapest first
    chosen = set(opening)
    return opening + sorted((spec for spec in costs if spec not in chosen), key=lambda spec: -costs[spec])


def create_job(session: Session, request: JobRequest) -> tuple[Job, list[TaskSpec]]:
    """Validate the request into a :class:`JobSpec` and store it as a queued job with its task rows; returns the
    job and the tasks to enqueue (one per image x codec; the job's ``total`` is the number of result rows, images x
    rate points)."""
    try:
        image_set = get_image_set(session, request.image_set_id)
    except NotFound as exc:
        raise Invalid(exc.message) from None
    if not image_set.images:
        raise Invalid(f"image set {request.image_set_id} has no images")
    spec = JobSpec(
        image_set.id, tuple(_validate_codecs(session, request.codecs)), tuple(_validate_metrics(request.metrics))
    )
    total = len(image_set.images) * sum(len(c.rate_points) for c in spec.codecs)
    limit = get_settings().max_tasks_per_job
    if total > limit:
        raise Invalid(f"job would run {total} tasks; the limit is {limit}")
    job = Job(
        image_set_id=image_set.id,
        codecs=[c.as_json() for c in spec.codecs],
        metrics=list(spec.metrics),
        status=JobStatus.QUEUED,
        done=0,
        total=total,
    )
    session.add(job)
    session.flush()
    kinds = {name: codec.kind for name, codec in catalog.codecs(session).items()}
    costs: dict[TaskSpec, float] = {}
    for image in image_set.images:
        for c in spec.codecs:
            costs[TaskSpec(job.id, image.id, c.name, c.rate_points)] = estimated_seconds(
                c.name, kinds.get(c.name, "learned"), image.width * image.height, len(c.rate_points)
            )
    tasks = run_order(costs)
    now = datetime.now(UTC)
    session.execute(
        insert(Task),
        [  # the task state rows, in the job's transaction
            {
                "job_id": t.job_id,
                "image_id": t.image_id,
                "codec": t.codec,
                "rate_points": list(t.rate_points),
                "state": TaskState.QUEUED,
                "attempts": 0,
                "queued_at": now,
            }
            for t in tasks
        ],
    )
    return job, tasks


def get_job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return job


def list_jobs(session: Session, limit: int | None = None, offset: int = 0) -> list[Job]:
    """Jobs, newest first; ``limit``/``offset`` select one page."""
    return list(session.scalars(select(Job).order_by(Job.id.desc()).limit(limit).offset(offset)))


def cancel_job(session: Session, job_id: int) -> Job:
    job = get_job(session, job_id)
    if job.status not in ACTIVE:
        raise Conflict(f"job {job_id} is already {job.status}")
    now = datetime.now(UTC)
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE))
        .values(status=JobStatus.CANCELLED, finished_at=now, error="cancelled by user")
    )
    # Queued tasks never run now (their messages are skipped); running ones stop before their next rate point
    # and are marked cancelled when they finish (``task_state.finish``).
    session.execute(
        update(Task)
        .where(Task.job_id == job_id, Task.state == TaskState.QUEUED)
        .values(state=TaskState.CANCELLED, finished_at=now)
    )
    session.refresh(job)
    return job


def mark_enqueue_failed(session: Session, job_id: int, message: str) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status=JobStatus.FAILED, error=message, finished_at=datetime.now(UTC))
    )


def rate_points_done(session: Session, job_id: int) -> dict[tuple[int, str], int]:
    """Finished rate points (result rows and recorded failures) of the job per (image id, codec): the progress
    inside each task."""
    done: dict[tuple[int, str], int] = {}
    for table in (Result, TaskFailure):
        for image_id, codec, n in session.execute(
            select(table.image_id, table.codec, func.count())
            .where(table.job_id == job_id)
            .group_by(table.image_id, table.codec)
        ):
            done[(image_id, codec)] = done.get((image_id, codec), 0) + n
    return done


def estimated_seconds_left(session: Session, job: Job, now: datetime | None = None) -> float | None:
    """Seconds until an active job finishes: its remaining work weighted by the estimated cost of each rate point
    (``engine.contract.estimated_seconds``: a learned rate point counts several classical ones), at the pace its
    finished work took so far. None before the first rate point finishes or once the job is over."""
    if job.status not in ACTIVE or job.started_at is None:
        return None
    kinds = {name: codec.kind for name, codec in catalog.codecs(session).items()}
    pixels = {image.id: image.width * image.height for image in job.image_set.images}
    done = rate_points_done(session, job.id)
    cost_done = cost_total = 0.0
    for image_id, codec, points in session.execute(
        select(Task.image_id, Task.codec, Task.rate_points).where(Task.job_id == job.id)
    ):
        per_point = estimated_seconds(codec, kinds.get(codec, "learned"), pixels.get(image_id, 0))
        cost_total += per_point * len(points)
        cost_done += per_point * min(done.get((image_id, codec), 0), len(points))
    started = job.started_at if job.started_at.tzinfo else job.started_at.replace(tzinfo=UTC)
    elapsed = ((now or datetime.now(UTC)) - started).total_seconds()
    if cost_done <= 0 or elapsed <= 0:
        return None
    return max(0.0, (cost_total - cost_done) * elapsed / cost_done)


def retry_failed(session: Session, job: Job, now: datetime) -> list[TaskSpec]:
    """Put the job's failed tasks back to ``queued`` (attempts from zero) and delete their ``TaskFailure`` rows so
    their rate points run again; the job is running again until they finish. Returns the tasks to send (the
    caller commits first). 409 when the job was cancelled or has no failed task."""
    if job.status == JobStatus.CANCELLED:
        raise Conflict(f"job {job.id} was cancelled; start a new job instead")
    failed = session.scalars(
        select(Task).where(Task.job_id == job.id, Task.state == TaskState.FAILED).order_by(Task.id)
    ).all()
    if not failed:
        raise Conflict(f"job {job.id} has no failed tasks to retry")
    removed = 0
    for task in failed:
        deleted = session.execute(
            delete(TaskFailure).where(
                TaskFailure.job_id == task.job_id,
                TaskFailure.image_id == task.image_id,
                TaskFailure.codec == task.codec,
                TaskFailure.rate_point.in_(TaskSpec.of(task).rate_points),
            )
        )
        removed += cast(CursorResult, deleted).rowcount  # a DELETE's result is a cursor result
        session.execute(
            update(Task)
            .where(Task.id == task.id, Task.state == TaskState.FAILED)
            .values(
                state=TaskState.QUEUED,
                attempts=0,
                worker=None,
                queued_at=now,
                started_at=None,
                finished_at=None,
                heartbeat_at=None,
                error=None,
            )
        )
    session.execute(
        update(Job)
        .where(Job.id == job.id)
        .values(status=JobStatus.RUNNING, error=None, finished_at=None, done=Job.done - removed)
    )
    return [TaskSpec.of(t) for t in failed]


def list_tasks(
    session: Session, job_id: int, state: str | None = None, limit: int | None = None, offset: int = 0
) -> list[Task]:
    """The job's tasks in id order (optionally one state), one page."""
    where = [Task.job_id == job_id] + ([Task.state == state] if state else [])
    return list(session.scalars(select(Task).where(*where).order_by(Task.id).limit(limit).offset(offset)))


def count_tasks(session: Session, job_id: int, state: str | None = None) -> int:
    where = [Task.job_id == job_id] + ([Task.state == state] if state else [])
    return session.scalar(select(func.count()).select_from(Task).where(*where)) or 0
