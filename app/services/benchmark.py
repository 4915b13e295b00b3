"""Execute one benchmark task: image x codec x all its rate points -> one result row + reconstruction PNG each.

One task per (image, codec): the reference is decoded once (and cached per worker process), the
codec's network is loaded once (the codec context's network cache), and every metric's reference-side
work is done once (``metrics.scoring.prepare_reference``) for all the reconstructions. Each rate point
is then encoded, decoded from its bytes, scored against the prepared reference and stored as its own
result row as soon as it finishes, so job progress (result rows) stays granular. A redelivered task
skips the rate points that already have a row; the unique key (job, image, codec, rate point) holds.
A rate point that fails is recorded as a ``TaskFailure`` and the others go on.
"""
from __future__ import annotations

import io
import logging
import time
from collections import OrderedDict

import numpy as np
from PIL import Image as PILImage
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.db.enums import JobStatus, TaskOutcome
from app.db.tables import Image, Job, Result, TaskFailure
from app.services import catalog, jobs
from app.services.storage import BlobStorage, image_key, reconstruction_key
from metrics.scoring import PreparedReference, prepare_reference, score_prepared
from models.base import Codec
from models.measure import measure

log = logging.getLogger(__name__)


def load_pixels(storage: BlobStorage, content_hash: str) -> np.ndarray:
    with PILImage.open(io.BytesIO(storage.get(image_key(content_hash)))) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()


_reference_cache: OrderedDict[str, np.ndarray] = OrderedDict()
REFERENCE_CACHE_SIZE = 16


def reference_pixels(storage: BlobStorage, content_hash: str) -> np.ndarray:
    """Decoded reference pixels, cached per worker process: a job encodes each image many times."""
    if content_hash in _reference_cache:
        _reference_cache.move_to_end(content_hash)
        return _reference_cache[content_hash]
    pixels = load_pixels(storage, content_hash)
    pixels.setflags(write=False)  # shared between tasks: nobody may modify it
    _reference_cache[content_hash] = pixels
    while len(_reference_cache) > REFERENCE_CACHE_SIZE:
        _reference_cache.popitem(last=False)
    return pixels


# Lossless PNG at zlib level 1: several times faster to write than Pillow's default level 6 for
# photos, a little larger on disk; the pixels are the same (a test reloads and compares).
RECONSTRUCTION_PNG_LEVEL = 1


def png_bytes(pixels: np.ndarray) -> bytes:
    """The reconstruction as a lossless RGB PNG (exactly ``pixels`` when decoded)."""
    buffer = io.BytesIO()
    PILImage.fromarray(pixels, "RGB").save(buffer, format="PNG", compress_level=RECONSTRUCTION_PNG_LEVEL)
    return buffer.getvalue()


def _finished_rate_points(session: Session, task: jobs.TaskSpec) -> set[float]:
    """Rate points of ``task`` that already have a result row or a recorded failure."""
    finished: set[float] = set()
    for table in (Result, TaskFailure):
        finished.update(session.scalars(select(table.rate_point).where(
            table.job_id == task.job_id, table.image_id == task.image_id, table.codec == task.codec,
            table.rate_point.in_(task.rate_points))))
    return finished


def _record_failure(session: Session, task: jobs.TaskSpec, rate_point: float, error: str) -> None:
    session.add(TaskFailure(job_id=task.job_id, image_id=task.image_id, codec=task.codec,
                            rate_point=rate_point, error=error[:2000]))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # a redelivered copy already recorded it


def _job_active(session: Session, job_id: int) -> bool:
    return session.scalar(select(Job.status).where(Job.id == job_id)) in jobs.ACTIVE


def _run_rate_point(session: Session, storage: BlobStorage, task: jobs.TaskSpec, rate_point: float,
                    codec: Codec, prepared: PreparedReference) -> TaskOutcome:
    """Encode, decode from the bytes, score against the prepared reference, store the PNG and the row."""
    try:
        m = measure(codec, prepared.reference, rate_point)
        scoring_started = time.perf_counter()
        scores = score_prepared(prepared, [m.reconstruction])[0]
        metrics_seconds = time.perf_counter() - scoring_started
        key = reconstruction_key(task.job_id, task.image_id, task.codec, rate_point)
        storage.put(key, png_bytes(m.reconstruction))  # the very array the metrics scored
        session.add(Result(
            job_id=task.job_id, image_id=task.image_id, codec=task.codec, rate_point=rate_point,
            bytes=len(m.bitstream), bpp=m.bpp, encode_seconds=m.encode_seconds,
            decode_seconds=m.decode_seconds, metrics_seconds=metrics_seconds,
            metrics={name: s.value for name, s in scores.items()},
            metric_notes={name: s.reason or s.note for name, s in scores.items() if s.reason or s.note},
            reconstruction_path=key, device=codec.device,
        ))
        try:
            session.commit()
            return TaskOutcome.STORED
        except IntegrityError:
            session.rollback()
            return TaskOutcome.DUPLICATE
    except Exception as exc:  # the job records it; other rate points and results are unaffected
        session.rollback()
        log.exception("task %s failed at rate point %g", task, rate_point)
        _record_failure(session, task, rate_point, f"{type(exc).__name__}: {exc}")
        return TaskOutcome.FAILED


def summary(outcomes: list[TaskOutcome]) -> TaskOutcome:
    """One outcome for a task's rate points: failed if any failed, else stored if any was stored,
    else duplicate (every rate point already had its row) or skipped (the job stopped first)."""
    for outcome in (TaskOutcome.FAILED, TaskOutcome.STORED, TaskOutcome.DUPLICATE):
        if outcome in outcomes:
            return outcome
    return TaskOutcome.SKIPPED


def run_task(factory: sessionmaker[Session], storage: BlobStorage, task: jobs.TaskSpec) -> TaskOutcome:
    """Run every rate point of ``task`` that has no row yet, storing each row as it finishes and
    refreshing the job's progress after each; stops early if the job is cancelled meanwhile.
    Returns the :func:`summary` of what happened."""
    with factory() as session:
        job = session.get(Job, task.job_id)
        if job is None:
            return TaskOutcome.JOB_MISSING
        if job.status not in jobs.ACTIVE:
            log.info("task %s skipped: job %s", task, job.status)
            return TaskOutcome.SKIPPED
        if job.status == JobStatus.QUEUED:
            jobs.mark_running(session, task.job_id)
        metric_names = list(job.metrics)
        finished = _finished_rate_points(session, task)
        image = session.get(Image, task.image_id)
        session.commit()  # no transaction stays open during the compute below
        todo = [rp for rp in task.rate_points if rp not in finished]
        outcomes = [TaskOutcome.DUPLICATE] * (len(task.rate_points) - len(todo))
        if todo:
            try:
                codec = catalog.codecs(session).get(task.codec)
                session.commit()
                if codec is None:
                    raise LookupError(f"codec {task.codec!r} no longer exists")
                if image is None:
                    raise LookupError(f"image {task.image_id} no longer exists")
                registered = catalog.registry_metrics()
                prepared = prepare_reference(reference_pixels(storage, image.content_hash),
                                             [registered[n] for n in metric_names])
            except Exception as exc:  # nothing can run: every pending rate point records why
                session.rollback()
                log.exception("task %s failed before its first rate point", task)
                for rate_point in todo:
                    _record_failure(session, task, rate_point, f"{type(exc).__name__}: {exc}")
                outcomes += [TaskOutcome.FAILED] * len(todo)
            else:
                for rate_point in todo:
                    if not _job_active(session, task.job_id):
                        log.info("task %s stopped before rate point %g: job no longer active", task, rate_point)
                        break
                    outcomes.append(_run_rate_point(session, storage, task, rate_point, codec, prepared))
                    jobs.refresh_progress(session, task.job_id)  # progress counts rows as they arrive
                    session.commit()
        jobs.refresh_progress(session, task.job_id)
        session.commit()
        return summary(outcomes)
