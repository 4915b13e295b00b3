"""Per-task state (issue 13): a message's turn and claim, progress, heartbeat, finish, the sweep that keeps jobs
from running forever, retry. Every write to a task's row and to its job's progress and status made while tasks run
is here; :mod:`engine.benchmark` only computes and stores result rows.

Every task (one image x codec covering its rate points) has a row in ``tasks``: ``queued`` when the job is stored,
``running`` when a worker claims it (``attempts`` + 1, the worker's ``hostname:pid``), ``done`` or ``failed`` when
its rate points are all stored or recorded as failed. While a worker runs a task it refreshes ``heartbeat_at``
from a thread (:func:`keep_alive`).

:func:`sweep` runs periodically in every worker (and may run anywhere else): a running task whose heartbeat is
older than ``task_stale_s`` (its worker vanished: ``kill -9``, a lost machine) or that started longer than the hard
time limit ago goes back to ``queued`` and its message is sent again while ``attempts < task_max_attempts``, else
it is failed with the reason (its missing rate points are recorded as ``TaskFailure`` rows, so the job finishes
and says why). Queued tasks older than ``task_redelivery_s`` are sent again when no task was claimed within that
window and none is running although a worker is alive: the broker lost its queue (Redis killed). A queue that
holds fewer waiting messages than it has queued tasks gets the missing turns sent again (:func:`_resend_missing`:
in the soak, a pool process SIGKILLed mid-task took its message with it while other jobs kept the workers busy). Each change is
an ``UPDATE ... WHERE`` guarded by the state (and attempts) the sweeper read, so two workers sweeping at once
change and send each task at most once; the unique result rule dedups any rate point that runs twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, Executable, Select, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.db.enums import JobStatus, TaskOutcome, TaskState
from app.db.tables import Job, Result, Task, TaskFailure, WorkerHeartbeat
from app.services.jobs import catalog
from app.settings import Settings
from engine import queue, scheduling
from engine.contract import RatePoint, TaskSpec
from models.base import CodecKind

log = logging.getLogger(__name__)

# Grace on top of the hard time limit before the sweep treats a running task as killed by it.
HARD_LIMIT_GRACE_S = 60.0


def worker_id() -> str:
    """This process as a task's ``worker``: ``hostname:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _rowcount(session: Session, statement: Executable) -> int:
    """Rows an ``UPDATE``/``DELETE`` changed (the guard of every state change here)."""
    return cast(CursorResult, session.execute(statement)).rowcount


def _row_of(spec: TaskSpec) -> tuple:
    return (Task.job_id == spec.job_id, Task.image_id == spec.image_id, Task.codec == spec.codec)


def _row(session: Session, spec: TaskSpec) -> Task | None:
    return session.scalar(select(Task).where(*_row_of(spec)))


@dataclass(frozen=True)
class Claim:
    """What :func:`claim` decided: ``task_id`` is set when this worker may run the task; ``refused`` says why not
    (``finished``: done or failed already; ``exhausted``: failed now, too many attempts)."""

    task_id: int | None
    refused: str | None = None


def claim(
    session: Session, spec: TaskSpec, worker: str, now: datetime, max_attempts: int, exclusive: bool = False
) -> Claim:
    """Mark the task running for ``worker`` (attempts + 1) and commit. A task already done or failed is refused;
    one still running after ``max_attempts`` claims (a message the broker keeps redelivering because it kills its
    worker) is failed here with the reason; a queued one runs (with ``exclusive``, only if this call wins the claim;
    else ``taken``) (the sweep re-queues only below the limit). The same worker claiming again (its database retry) does not count a new attempt. A task without a
    row (a message older than the ``tasks`` table) gets one."""
    task = _row(session, spec)
    if task is None:
        task = Task(
            job_id=spec.job_id,
            image_id=spec.image_id,
            codec=spec.codec,
            rate_points=list(spec.rate_points),
            state=TaskState.QUEUED,
            attempts=0,
            queued_at=now,
        )
        session.add(task)
        session.flush()
    if task.state not in TaskState.unfinished():
        session.commit()
        return Claim(None, "finished")
    if task.state == TaskState.RUNNING and task.worker == worker:
        session.execute(update(Task).where(Task.id == task.id).values(heartbeat_at=now))
        session.commit()
        return Claim(task.id)
    if task.state == TaskState.RUNNING and task.attempts >= max_attempts:  # redelivered after each lost worker
        reason = (
            f"gave up after {task.attempts} attempts (the worker was lost each time; "
            f"last worker {task.worker or 'unknown'})"
        )
        failed = fail(session, task, reason, now, expect_state=task.state, expect_attempts=task.attempts)
        session.commit()
        if failed:
            finish_if_complete(session, task.job_id)
            session.commit()
        return Claim(None, "exhausted")
    claimed = _rowcount(
        session,
        update(Task)
        .where(Task.id == task.id, Task.state.in_(TaskState.unfinished()), Task.attempts == task.attempts)
        .values(
            state=TaskState.RUNNING,
            attempts=Task.attempts + 1,
            worker=worker[:200],
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
        ),
    )
    session.commit()
    if not claimed:  # another worker claimed it between the read and the update: run it anyway (rows dedup)
        session.expire(task)
        if exclusive:  # a task taken in another message's turn (``engine.scheduling``): leave it to that worker
            return Claim(None, "taken")
    return Claim(task.id)


def row_id(session: Session, spec: TaskSpec) -> int:
    """The id of ``spec``'s row in ``tasks`` (-1: none)."""
    return session.scalar(select(Task.id).where(*_row_of(spec))) or -1


@dataclass(frozen=True)
class Turn:
    """What a message's turn came to (:func:`take_turn`): the task this worker claimed with its row id and job, or,
    when it runs nothing, the ``outcome`` to report."""

    task: TaskSpec
    task_id: int | None = None
    job: Job | None = None
    outcome: TaskOutcome | None = None


def take_turn(session: Session, message: TaskSpec, settings: Settings, worker: str, now: datetime) -> Turn:
    """Choose the task ``message``'s turn runs (``engine.scheduling``: the fairest between jobs; a task taken
    meanwhile or finished is passed over, up to 5 times) and claim it (:func:`claim`); a claimed task's queued job
    starts running. Commits. A turn that runs nothing says why in its ``outcome``."""
    scope = scheduling.QueueScope(
        frozenset(name for name, c in catalog.registry_codecs().items() if c.kind == CodecKind.CLASSICAL),
        settings.learned_queue,
    )
    fresh_s = 3 * settings.worker_heartbeat_seconds
    taken: list[int] = []
    while True:
        chosen, swapped = (
            scheduling.choose(session, message, scope, worker, fresh_s, exclude=taken)
            if len(taken) < 5
            else (message, False)
        )
        session.commit()
        if chosen is None:
            log.info("message %s: its task runs in another live process and nothing else is queued", message)
            return Turn(message, outcome=TaskOutcome.DUPLICATE)
        job = session.get(Job, chosen.job_id)
        if swapped and (job is None or job.status not in JobStatus.active()):
            taken.append(row_id(session, chosen))  # finished meanwhile: choose again
            continue
        if job is None:
            return Turn(chosen, outcome=TaskOutcome.JOB_MISSING)
        if job.status not in JobStatus.active():
            log.info("task %s skipped: job %s", chosen, job.status)
            return Turn(chosen, outcome=TaskOutcome.SKIPPED)
        claimed = claim(session, chosen, worker, now, settings.task_max_attempts, exclusive=swapped)
        if claimed.task_id is not None or not swapped:
            break
        taken.append(row_id(session, chosen))  # another worker won it: choose again
    if swapped:
        log.info("message %s runs task %s in its turn (fair share between jobs)", message, chosen)
    if claimed.task_id is None:
        log.info("task %s not run: %s", chosen, claimed.refused)
        finish_if_complete(session, chosen.job_id)  # a redelivery may be the job's last word
        session.commit()
        return Turn(chosen, outcome=TaskOutcome.FAILED if claimed.refused == "exhausted" else TaskOutcome.DUPLICATE)
    if job.status == JobStatus.QUEUED:
        mark_running(session, chosen.job_id)
    return Turn(chosen, claimed.task_id, job)


def record_failure(session: Session, task: TaskSpec, rate_point: RatePoint, error: str) -> None:
    """Record ``rate_point`` of ``task`` as failed with ``error`` (one more ``done`` on the job) and commit; a copy
    of the task that recorded it already wins."""
    session.add(
        TaskFailure(
            job_id=task.job_id, image_id=task.image_id, codec=task.codec, rate_point=rate_point, error=error[:2000]
        )
    )
    try:
        session.flush()
        add_progress(session, task.job_id, 1)
        session.commit()
    except IntegrityError:
        session.rollback()  # a redelivered copy already recorded it


def close(session: Session, task_id: int, job_id: int, now: datetime) -> None:
    """After a worker ran task ``task_id``: set its state from its rows (:func:`finish`), commit, then close the job
    if that was its last task (:func:`finish_if_complete`) and commit."""
    finish(session, task_id, now)
    session.commit()
    finish_if_complete(session, job_id)
    session.commit()


def beat(session: Session, task_id: int, now: datetime) -> None:
    """Refresh a running task's heartbeat."""
    session.execute(update(Task).where(Task.id == task_id, Task.state == TaskState.RUNNING).values(heartbeat_at=now))


@contextmanager
def keep_alive(factory: sessionmaker[Session], task_id: int, interval_s: float) -> Iterator[None]:
    """Refresh ``task_id``'s heartbeat every ``interval_s`` from a daemon thread while the block runs (the sweep
    reads a stale heartbeat as a vanished worker). Database errors are logged and retried at the next beat."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                with factory() as session:
                    beat(session, task_id, datetime.now(UTC))
                    session.commit()
            except Exception as exc:  # the database may be briefly away
                log.warning("task %s heartbeat failed: %s", task_id, exc)

    thread = threading.Thread(target=loop, name=f"licbench-task-{task_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _recorded(session: Session, task: TaskSpec) -> tuple[set[RatePoint], dict[RatePoint, str]]:
    """The task's rate points with a result row, and those with a recorded failure (rate point -> error)."""

    def where(table: type[Result] | type[TaskFailure]) -> tuple:
        return (
            table.job_id == task.job_id,
            table.image_id == task.image_id,
            table.codec == task.codec,
            table.rate_point.in_(task.rate_points),
        )

    stored = set(session.scalars(select(Result.rate_point).where(*where(Result))))
    failed = {
        rp: error
        for rp, error in session.execute(select(TaskFailure.rate_point, TaskFailure.error).where(*where(TaskFailure)))
    }
    return stored, failed


def fail(session: Session, task: Task, reason: str, now: datetime, *, expect_state: str, expect_attempts: int) -> bool:
    """Fail ``task`` with ``reason`` if it is still in ``expect_state`` after ``expect_attempts`` claims (the guard
    that makes concurrent sweeps harmless); its rate points without a row get a ``TaskFailure`` with the reason, so
    the job can finish. Returns whether this call failed it (the caller commits)."""
    changed = _rowcount(
        session,
        update(Task)
        .where(Task.id == task.id, Task.state == expect_state, Task.attempts == expect_attempts)
        .values(state=TaskState.FAILED, finished_at=now, error=reason[:2000]),
    )
    if not changed:
        return False
    spec = TaskSpec.of(task)
    stored, failed = _recorded(session, spec)
    missing = [p for p in spec.rate_points if p not in stored and p not in failed]
    for rate_point in missing:
        session.add(
            TaskFailure(
                job_id=task.job_id, image_id=task.image_id, codec=task.codec, rate_point=rate_point, error=reason[:2000]
            )
        )
    if missing:
        session.flush()
        add_progress(session, task.job_id, len(missing))
    return True


def finish(session: Session, task_id: int, now: datetime) -> str:
    """Set a task's state from its rows after a worker ran it: ``done`` (every rate point stored), ``failed`` (all
    recorded, some failed; the first error is kept), ``cancelled`` (rate points still missing and the job was
    cancelled meanwhile) or back to ``queued`` (rate points still missing: the message named only some of them). Returns the new state (the caller commits)."""
    task = session.get(Task, task_id)
    if task is None:
        return TaskState.DONE
    session.refresh(task)
    spec = TaskSpec.of(task)
    stored, failed = _recorded(session, spec)
    points = spec.rate_points
    if all(p in stored for p in points):
        state, error = TaskState.DONE, None
    elif all(p in stored or p in failed for p in points):
        state = TaskState.FAILED
        error = next(failed[p] for p in points if p in failed)
    elif session.scalar(select(Job.status).where(Job.id == task.job_id)) not in JobStatus.active():
        state, error = TaskState.CANCELLED, None  # stopped before its next rate point: the job was cancelled
    else:
        state, error = TaskState.QUEUED, None
    values: dict[str, object] = {"state": state, "error": error}
    if state == TaskState.QUEUED:
        values.update(queued_at=now, started_at=None, worker=None)
    else:
        values.update(finished_at=now)
    session.execute(update(Task).where(Task.id == task_id, Task.state.in_(TaskState.unfinished())).values(**values))
    return state


@dataclass
class SweepReport:
    """What one :func:`sweep` did: tasks put back to queued and sent again, tasks failed (reasons), queued tasks
    sent again, active jobs found complete and closed, and the send error if the broker refused."""

    requeued: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    resent: list[int] = field(default_factory=list)
    closed_jobs: list[int] = field(default_factory=list)
    send_error: str | None = None


Sender = Callable[[Session, Sequence[TaskSpec]], int]


def send_tasks(session: Session, specs: Sequence[TaskSpec]) -> int:
    """Send task messages to their queues (``engine.queue.enqueue``)."""
    if not specs:
        return 0
    return queue.enqueue(specs, {name: c.kind for name, c in catalog.codecs(session).items()})


def _active_job_ids() -> Select:
    return select(Job.id).where(Job.status.in_(JobStatus.active()))


def sweep(
    session: Session,
    now: datetime,
    settings: Settings,
    send: Sender = send_tasks,
    waiting: Callable[[str], int | None] = queue.waiting_messages,
) -> SweepReport:
    """One pass of the task sweep (see the module docstring), at time ``now``; commits its changes, then sends the
    messages. Only tasks of queued or running jobs are touched. ``waiting`` counts the messages waiting on a broker
    queue (:func:`_resend_missing`)."""
    report = SweepReport()
    stale_before = now - timedelta(seconds=settings.task_stale_s)
    hard_before = now - timedelta(seconds=settings.task_hard_time_limit_s + HARD_LIMIT_GRACE_S)
    running = session.scalars(
        select(Task).where(
            Task.state == TaskState.RUNNING,
            Task.job_id.in_(_active_job_ids()),
            (Task.heartbeat_at.is_(None)) | (Task.heartbeat_at < stale_before) | (Task.started_at < hard_before),
        )
    ).all()
    to_send: list[Task] = []
    for task in running:
        if task.started_at is not None and _aware(task.started_at) < hard_before:
            reason = (
                f"task ran past the hard time limit of {settings.task_hard_time_limit_s:g} s "
                f"(worker {task.worker or 'unknown'})"
            )
        else:
            beat_at = task.heartbeat_at
            age = f"{(now - _aware(beat_at)).total_seconds():.0f} s ago" if beat_at else "never"
            reason = f"worker {task.worker or 'unknown'} stopped heartbeating (last beat {age})"
            if beat_at and task.started_at:
                ran = (_aware(beat_at) - _aware(task.started_at)).total_seconds()
                if ran >= settings.task_hard_time_limit_s - 2 * settings.worker_heartbeat_seconds:
                    reason += (
                        f" after running {ran:.0f} s: killed at the hard time limit of "
                        f"{settings.task_hard_time_limit_s:g} s (TASK_HARD_TIME_LIMIT_S)"
                    )
        if task.attempts < settings.task_max_attempts:
            changed = _rowcount(
                session,
                update(Task)
                .where(Task.id == task.id, Task.state == TaskState.RUNNING, Task.attempts == task.attempts)
                .values(
                    state=TaskState.QUEUED,
                    queued_at=now,
                    started_at=None,
                    worker=None,
                    error=f"re-queued: {reason}"[:2000],
                ),
            )
            if changed:
                report.requeued.append(task.id)
                to_send.append(task)
                log.warning(
                    "sweep re-queued task %s (attempt %s of %s): %s",
                    task.id,
                    task.attempts,
                    settings.task_max_attempts,
                    reason,
                )
        else:
            reason = f"{reason}; gave up after {task.attempts} attempts"
            if fail(session, task, reason, now, expect_state=TaskState.RUNNING, expect_attempts=task.attempts):
                report.failed[task.id] = reason
                log.warning("sweep failed task %s: %s", task.id, reason)
    session.commit()

    if _queue_looks_lost(session, now, settings):
        redelivery_before = now - timedelta(seconds=settings.task_redelivery_s)
        queued = session.scalars(
            select(Task)
            .where(
                Task.state == TaskState.QUEUED, Task.queued_at < redelivery_before, Task.job_id.in_(_active_job_ids())
            )
            .order_by(Task.id)
        ).all()
        consumed = _consumed_queues(session, now, settings)
        if consumed is not None and queued:  # no copies for a queue nobody consumes (no gpu worker yet)
            queue_of = _queue_of(session, settings)
            queued = [t for t in queued if queue_of(t) in consumed]
        for task in queued:
            if _mark_sent_again(session, task, now):
                report.resent.append(task.id)
                to_send.append(task)
        session.commit()
        if report.resent:
            log.warning(
                "sweep sends %d queued tasks again: none was claimed for %g s while a worker is alive",
                len(report.resent),
                settings.task_redelivery_s,
            )
    if not report.resent:
        missing = _resend_missing(session, now, settings, waiting, already=to_send)
        report.resent = [t.id for t in missing]
        to_send += missing

    for job_id in {t.job_id for t in running} | set(
        session.scalars(
            _active_job_ids().where(~exists().where(Task.job_id == Job.id, Task.state.in_(TaskState.unfinished())))
        )
    ):
        if finish_if_complete(session, job_id):
            session.commit()
            if job_id not in report.closed_jobs and session.get(Job, job_id) is not None:
                report.closed_jobs.append(job_id)
    session.commit()

    if to_send:
        try:
            send(session, [TaskSpec.of(t) for t in to_send])
        except Exception as exc:  # the tasks stay queued; a later sweep sends them again
            report.send_error = f"{type(exc).__name__}: {exc}"
            log.warning("sweep could not send %d tasks: %s", len(to_send), report.send_error)
    return report


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _consumed_queues(session: Session, now: datetime, settings: Settings) -> set[str] | None:
    """The queues live workers consume (from their heartbeat rows); None when one of them did not say."""
    alive_after = now - timedelta(seconds=settings.task_stale_s)
    consumed: set[str] = set()
    for queues in session.scalars(select(WorkerHeartbeat.queues).where(WorkerHeartbeat.beat_at >= alive_after)):
        if not queues:
            return None
        consumed.update(q for q in queues.split(",") if q)
    return consumed


def _queue_of(session: Session, settings: Settings) -> Callable[[Task], str]:
    """The broker queue a task's messages go to (``queue.queue_for`` by its codec's kind)."""
    kinds = {name: c.kind for name, c in catalog.codecs(session).items()}
    return lambda task: queue.queue_for(kinds.get(task.codec, CodecKind.LEARNED), settings.learned_queue)


def _mark_sent_again(session: Session, task: Task, now: datetime) -> bool:
    """Restart a queued task's wait at ``now`` before its message is sent again; False when it left the state the
    sweeper read (another sweep sent it, or a worker claimed it), so each task is sent at most once per pass."""
    return bool(
        _rowcount(
            session,
            update(Task)
            .where(Task.id == task.id, Task.state == TaskState.QUEUED, Task.queued_at == task.queued_at)
            .values(queued_at=now),
        )
    )


def _resend_missing(
    session: Session, now: datetime, settings: Settings, waiting: Callable[[str], int | None], already: list[Task]
) -> list[Task]:
    """Queued tasks of a busy queue whose messages are missing: a message is a turn (``engine.scheduling``), so a
    queue needs at least as many messages waiting as it has queued tasks. Where fewer wait (a turn lost to a race
    or a killed process while other jobs keep the workers busy, which :func:`_queue_looks_lost` never sees), the
    oldest queued tasks queued more than one sweep interval ago are sent again, one per missing message. Counting
    needs no long wait: a message is uncounted only while a worker holds it before its turn or while the API is
    sending it, seconds, and a turn too many just finds nothing to run. Commits; returns the tasks to send."""
    redelivery_before = now - timedelta(seconds=settings.sweep_interval_s)
    queue_of = _queue_of(session, settings)
    consumed = _consumed_queues(session, now, settings)
    by_queue: dict[str, list[Task]] = {}
    for task in session.scalars(
        select(Task)
        .where(Task.state == TaskState.QUEUED, Task.job_id.in_(_active_job_ids()))
        .order_by(Task.queued_at, Task.id)
    ):
        by_queue.setdefault(queue_of(task), []).append(task)
    sending = {t.id for t in already}
    resent: list[Task] = []
    for name, tasks in by_queue.items():
        if consumed is not None and name not in consumed:
            continue  # nobody consumes it (no gpu worker yet): more copies would only pile up
        count = waiting(name)
        if count is None:
            continue
        missing = len(tasks) - count - sum(1 for t in tasks if t.id in sending)
        if missing <= 0:
            continue
        overdue = [t for t in tasks if t.id not in sending and _aware(t.queued_at) < redelivery_before]
        here = [task for task in overdue[:missing] if _mark_sent_again(session, task, now)]
        if here:
            log.warning(
                "sweep sends %d queued tasks again: queue %s holds %d messages for %d queued tasks",
                len(here),
                name,
                count,
                len(tasks),
            )
        resent += here
    session.commit()
    return resent


def _queue_looks_lost(session: Session, now: datetime, settings: Settings) -> bool:
    """True when a worker is alive, no task runs and none was claimed within ``task_redelivery_s``: queued tasks
    are then not waiting behind others, their messages are gone."""
    alive_after = now - timedelta(seconds=settings.task_stale_s)
    if session.scalar(select(WorkerHeartbeat.id).where(WorkerHeartbeat.beat_at >= alive_after).limit(1)) is None:
        return False
    if (
        session.scalar(
            select(Task.id).where(Task.state == TaskState.RUNNING, Task.job_id.in_(_active_job_ids())).limit(1)
        )
        is not None
    ):
        return False
    last_claim = session.scalar(select(func.max(Task.started_at)))
    return last_claim is None or _aware(last_claim) < now - timedelta(seconds=settings.task_redelivery_s)


def mark_running(session: Session, job_id: int) -> None:
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.RUNNING, started_at=datetime.now(UTC))
    )


def add_progress(session: Session, job_id: int, rate_points: int) -> None:
    """Count ``rate_points`` more finished rate points (result rows or recorded failures) on the job; call it in
    the transaction that stores them, so a rolled-back duplicate counts nothing."""
    session.execute(update(Job).where(Job.id == job_id).values(done=Job.done + rate_points))


def finish_if_complete(session: Session, job_id: int) -> bool:
    """Close the job (succeeded, or failed naming its failures) when none of its tasks is queued or running;
    ``done`` is recounted once then. Returns whether the job is finished. Call it after committing the task's
    own state, so two tasks finishing together cannot both miss the end."""
    unfinished = session.scalar(
        select(Task.id).where(Task.job_id == job_id, Task.state.in_(TaskState.unfinished())).limit(1)
    )
    if unfinished is not None:
        return False
    job = session.get(Job, job_id)
    if job is None:
        return True
    session.refresh(job)
    if job.status not in JobStatus.active():
        return True
    results = session.scalar(select(func.count()).select_from(Result).where(Result.job_id == job_id)) or 0
    failures = session.scalar(select(func.count()).select_from(TaskFailure).where(TaskFailure.job_id == job_id)) or 0
    if failures:
        first = session.scalars(
            select(TaskFailure).where(TaskFailure.job_id == job_id).order_by(TaskFailure.id).limit(3)
        ).all()
        detail = "; ".join(f"{f.codec}@{f.rate_point:g} on image {f.image_id}: {f.error}" for f in first)
        status, error = JobStatus.FAILED, f"{failures} of {job.total} tasks failed ({results} results kept): {detail}"
    else:
        status, error = JobStatus.SUCCEEDED, None
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(JobStatus.active()))
        .values(status=status, error=error, done=results + failures, finished_at=datetime.now(UTC))
    )
    return True
