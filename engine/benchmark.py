"""Execute one benchmark task: image x codec x all its rate points -> one result row + reconstruction PNG each.

One task per (image, codec): the reference is decoded once (and cached per worker process), the
codec's network is loaded once (the codec context's network cache), and every metric's reference-side
work is done once (``metrics.scoring.prepare_reference``) for all the reconstructions. Each rate point
is then encoded, decoded from its bytes, scored against the prepared reference and stored as its own
result row as soon as it finishes, so job progress (result rows) stays granular. A redelivered task
skips the rate points that already have a row; the unique key (job, image, codec, rate point) holds.
A rate point that fails is recorded as a ``TaskFailure`` and the others go on.

Issue 13: the task's row in ``tasks`` is claimed (running, attempts + 1, this worker) before the work and set
done/failed after it, with a heartbeat thread meanwhile (``engine.task_state``); the job's ``done`` grows in
the transaction of each stored row and the job closes when no task is left. Database errors (``OperationalError``,
``InterfaceError``: the database is away) are never recorded as a rate point's failure: they propagate, the
reconstruction PNG written for the uncommitted row is removed (no orphan files), and :func:`run_task_retrying`
runs the task again with exponential back-off until the database answers; finished rate points are skipped.
"""

from __future__ import annotations

import hashlib
import io
import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from PIL import Image as PILImage
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.db.enums import JobStatus, TaskOutcome
from app.db.tables import Image, Job, Result, TaskFailure
from app.services.jobs import catalog
from app.services.operations.deletion import remove_files
from app.services.storage import BlobStorage, image_key, reconstruction_key
from app.settings import get_settings
from engine import task_state
from engine.contract import RatePoint, TaskSpec
from engine.png_writer import rgb_png
from metrics.scoring import PreparedReference, prepare_reference, score_prepared
from models.base import Codec
from models.measure import measure

log = logging.getLogger(__name__)

# The database is unreachable (stopped, restarting, connection reset): retry, never record as the task's failure.
DATABASE_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


def load_pixels(storage: BlobStorage, content_hash: str) -> np.ndarray:
    with PILImage.open(io.BytesIO(storage.get(image_key(content_hash)))) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


class ReferenceCache:
    """Decoded reference pixels by content hash, the ``size`` most recently used (a job encodes each image many
    times). One per worker process (:data:`references`); tests make their own."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._pixels: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, storage: BlobStorage, content_hash: str) -> np.ndarray:
        with self._lock:
            if content_hash in self._pixels:
                self._pixels.move_to_end(content_hash)
                return self._pixels[content_hash]
        pixels = load_pixels(storage, content_hash)
        pixels.setflags(write=False)  # shared between tasks: nobody may modify it
        with self._lock:
            self._pixels[content_hash] = pixels
            while len(self._pixels) > self.size:
                self._pixels.popitem(last=False)
        return pixels

    def __len__(self) -> int:
        return len(self._pixels)


references = ReferenceCache()


def reference_pixels(storage: BlobStorage, content_hash: str) -> np.ndarray:
    """Decoded reference pixels, cached per worker process (:data:`references`)."""
    return references.get(storage, content_hash)


def png_bytes(pixels: np.ndarray) -> bytes:
    """The reconstruction as a lossless RGB PNG (exactly ``pixels`` when decoded; a test reloads and compares),
    written by :func:`engine.png_writer.rgb_png`: ~3x faster than Pillow at zlib level 1."""
    return rgb_png(pixels)


def _finished_rate_points(session: Session, storage: BlobStorage, task: TaskSpec) -> set[RatePoint]:
    """Rate points of ``task`` that already have a result row or a recorded failure. A result whose reconstruction
    file is missing (the worker lost the database while committing it and removed the file) is deleted here, so the
    rate point runs again."""
    finished: set[RatePoint] = set()
    for row_id, rate_point, path in session.execute(
        select(Result.id, Result.rate_point, Result.reconstruction_path).where(
            Result.job_id == task.job_id,
            Result.image_id == task.image_id,
            Result.codec == task.codec,
            Result.rate_point.in_(task.rate_points),
        )
    ):
        if storage.exists(path):
            finished.add(rate_point)
        else:
            log.warning(
                "result %s of %s has no reconstruction file: running rate point %g again", row_id, task, rate_point
            )
            session.execute(delete(Result).where(Result.id == row_id))
            task_state.add_progress(session, task.job_id, -1)
    finished.update(
        session.scalars(
            select(TaskFailure.rate_point).where(
                TaskFailure.job_id == task.job_id,
                TaskFailure.image_id == task.image_id,
                TaskFailure.codec == task.codec,
                TaskFailure.rate_point.in_(task.rate_points),
            )
        )
    )
    return finished


def _job_active(session: Session, job_id: int) -> bool:
    return session.scalar(select(Job.status).where(Job.id == job_id)) in JobStatus.active()


def _remove(storage: BlobStorage, key: str) -> None:
    try:
        remove_files(storage, [key])
    except Exception as exc:  # never hide the error that got us here
        log.warning("could not remove %s: %s", key, exc)


def _run_rate_point(
    session: Session,
    storage: BlobStorage,
    task: TaskSpec,
    rate_point: RatePoint,
    codec: Codec,
    prepared: PreparedReference,
    abort_on: tuple[type[BaseException], ...] = (),
) -> TaskOutcome:
    """Encode, decode from the bytes, score against the prepared reference, store the PNG and the row (and one
    more ``done`` on the job) in one commit. A database error or an ``abort_on`` exception propagates after the
    PNG of the uncommitted row is removed; any other error is recorded as this rate point's failure."""
    key = reconstruction_key(task.job_id, task.image_id, task.codec, rate_point)
    written = False
    try:
        m = measure(codec, prepared.reference, rate_point)
        scoring_started = time.perf_counter()
        scores = score_prepared(prepared, [m.reconstruction])[0]
        metrics_seconds = time.perf_counter() - scoring_started
        existed = storage.exists(key)
        png = png_bytes(m.reconstruction)  # the very array the metrics scored
        storage.put(key, png)
        written = not existed  # a copy running at the same time may own the file (same key, same pixels)
        session.add(
            Result(
                job_id=task.job_id,
                image_id=task.image_id,
                codec=task.codec,
                rate_point=rate_point,
                bytes=len(m.bitstream),
                bpp=m.bpp,
                encode_seconds=m.encode_seconds,
                decode_seconds=m.decode_seconds,
                metrics_seconds=metrics_seconds,
                metrics={name: s.value for name, s in scores.items()},
                metric_notes={name: s.reason or s.note for name, s in scores.items() if s.reason or s.note},
                reconstruction_path=key,
                reconstruction_sha256=hashlib.sha256(png).hexdigest(),
                device=codec.device,
            )
        )
        try:
            session.flush()
            task_state.add_progress(session, task.job_id, 1)
            session.commit()
            return TaskOutcome.STORED
        except IntegrityError:
            session.rollback()
            return TaskOutcome.DUPLICATE
    except DATABASE_ERRORS + abort_on:
        session.rollback()
        if written:
            _remove(storage, key)
        raise
    except Exception as exc:  # the job records it; other rate points and results are unaffected
        session.rollback()
        if written:
            _remove(storage, key)
        log.exception("task %s failed at rate point %g", task, rate_point)
        task_state.record_failure(session, task, rate_point, f"{type(exc).__name__}: {exc}")
        return TaskOutcome.FAILED


def summary(outcomes: list[TaskOutcome]) -> TaskOutcome:
    """One outcome for a task's rate points: failed if any failed, else stored if any was stored,
    else duplicate (every rate point already had its row) or skipped (the job stopped first)."""
    for outcome in (TaskOutcome.FAILED, TaskOutcome.STORED, TaskOutcome.DUPLICATE):
        if outcome in outcomes:
            return outcome
    return TaskOutcome.SKIPPED


def _now() -> datetime:
    return datetime.now(UTC)


def run_task(
    factory: sessionmaker[Session],
    storage: BlobStorage,
    task: TaskSpec,
    abort_on: tuple[type[BaseException], ...] = (),
    abort_reason: str = "task stopped",
) -> TaskOutcome:
    """Take this message's turn (``task_state.take_turn``: the task it runs, claimed), run every rate point that has
    no row yet (storing each row as it finishes), then close the task (``task_state.close``). Stops early if the job
    is cancelled meanwhile. An ``abort_on`` exception (the Celery soft time limit) records ``abort_reason`` as the
    failure of every rate point still missing. Database errors propagate (see :func:`run_task_retrying`). Returns
    the :func:`summary`."""
    settings = get_settings()
    with factory() as session:
        turn = task_state.take_turn(session, task, settings, task_state.worker_id(), _now())
        if turn.outcome is not None or turn.task_id is None or turn.job is None:
            return turn.outcome or TaskOutcome.DUPLICATE
        task = turn.task
        metric_names = list(turn.job.metrics)
        finished = _finished_rate_points(session, storage, task)
        image = session.get(Image, task.image_id)
        session.commit()  # no transaction stays open during the compute below
        todo = [rp for rp in task.rate_points if rp not in finished]
        outcomes = [TaskOutcome.DUPLICATE] * (len(task.rate_points) - len(todo))
        with task_state.keep_alive(factory, turn.task_id, settings.worker_heartbeat_seconds):
            if todo:
                try:
                    outcomes += _run_todo(session, storage, task, todo, image, metric_names, abort_on)
                except abort_on:
                    session.rollback()
                    log.warning("task %s aborted: %s", task, abort_reason)
                    for rate_point in todo:
                        if rate_point not in _finished_rate_points(session, storage, task):
                            task_state.record_failure(session, task, rate_point, abort_reason)
                    outcomes.append(TaskOutcome.FAILED)
            task_state.close(session, turn.task_id, task.job_id, _now())
        return summary(outcomes)


def _run_todo(
    session: Session,
    storage: BlobStorage,
    task: TaskSpec,
    todo: list[RatePoint],
    image: Image | None,
    metric_names: list[str],
    abort_on: tuple[type[BaseException], ...],
) -> list[TaskOutcome]:
    """Prepare the codec and reference once, then run the rate points in ``todo`` in order."""
    try:
        codec = catalog.codecs(session).get(task.codec)
        session.commit()
        if codec is None:
            raise LookupError(f"codec {task.codec!r} no longer exists")
        if image is None:
            raise LookupError(f"image {task.image_id} no longer exists")
        registered = catalog.registry_metrics()
        prepared = prepare_reference(
            reference_pixels(storage, image.content_hash), [registered[n] for n in metric_names]
        )
    except DATABASE_ERRORS + abort_on:
        session.rollback()
        raise
    except Exception as exc:  # nothing can run: every pending rate point records why
        session.rollback()
        log.exception("task %s failed before its first rate point", task)
        for rate_point in todo:
            task_state.record_failure(session, task, rate_point, f"{type(exc).__name__}: {exc}")
        return [TaskOutcome.FAILED] * len(todo)
    outcomes: list[TaskOutcome] = []
    for rate_point in todo:
        if not _job_active(session, task.job_id):
            log.info("task %s stopped before rate point %g: job no longer active", task, rate_point)
            break
        outcomes.append(_run_rate_point(session, storage, task, rate_point, codec, prepared, abort_on))
    return outcomes


def run_task_retrying(
    factory: sessionmaker[Session],
    storage: BlobStorage,
    task: TaskSpec,
    abort_on: tuple[type[BaseException], ...] = (),
    abort_reason: str = "task stopped",
    sleep: Callable[[float], None] = time.sleep,
    max_delay_s: float | None = None,
) -> TaskOutcome:
    """:func:`run_task`, run again after each database error with exponential back-off (0.5 s doubling up to
    ``DB_RETRY_MAX_DELAY_S``, with jitter) until the database answers: the task is never dropped. Each run skips
    the rate points already stored, and the same worker's re-claim counts no new attempt. (Celery's
    ``autoretry_for`` with ``retry_backoff`` is the same idea through the broker; retrying in place keeps the task
    off a broker that may be down too. The soft time limit still bounds the whole task.)"""
    limit = get_settings().db_retry_max_delay_s if max_delay_s is None else max_delay_s
    failures = 0
    while True:
        try:
            return run_task(factory, storage, task, abort_on, abort_reason)
        except DATABASE_ERRORS as exc:
            failures += 1
            delay = min(limit, 0.5 * 2 ** (failures - 1)) * random.uniform(0.8, 1.0)
            log.warning(
                "task %s: database error (%s: %s); retry %d in %.1f s",
                task,
                type(exc).__name__,
                str(exc).splitlines()[0] if str(exc) else "",
                failures,
                delay,
            )
            sleep(delay)
