"""Execute one benchmark task: image x codec x rate point -> result row + reconstruction PNG."""
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
from metrics.scoring import score
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


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(pixels, "RGB").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _already_done(session: Session, task: jobs.TaskSpec) -> bool:
    for table in (Result, TaskFailure):
        found = session.scalar(select(table.id).where(
            table.job_id == task.job_id, table.image_id == task.image_id,
            table.codec == task.codec, table.rate_point == task.rate_point))
        if found is not None:
            return True
    return False


def _record_failure(session: Session, task: jobs.TaskSpec, error: str) -> None:
    session.add(TaskFailure(job_id=task.job_id, image_id=task.image_id, codec=task.codec,
                            rate_point=task.rate_point, error=error[:2000]))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # a redelivered copy already recorded it


def run_task(factory: sessionmaker[Session], storage: BlobStorage, task: jobs.TaskSpec) -> TaskOutcome:
    """Run ``task`` unless its job is finished or it already ran; returns what happened."""
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
        done = _already_done(session, task)
        image = session.get(Image, task.image_id)
        session.commit()  # no transaction stays open during the compute below
        if done:
            outcome = TaskOutcome.DUPLICATE
        else:
            try:
                codec = catalog.codecs(session).get(task.codec)
                session.commit()
                if codec is None:
                    raise LookupError(f"codec {task.codec!r} no longer exists")
                reference = reference_pixels(storage, image.content_hash)
                m = measure(codec, reference, task.rate_point)
                scoring_started = time.perf_counter()
                registered = catalog.registry_metrics()
                scores = score(reference, [m.reconstruction], [registered[n] for n in metric_names])[0]
                metrics_seconds = time.perf_counter() - scoring_started
                key = reconstruction_key(task.job_id, task.image_id, task.codec, task.rate_point)
                storage.put(key, png_bytes(m.reconstruction))
                session.add(Result(
                    job_id=task.job_id, image_id=task.image_id, codec=task.codec, rate_point=task.rate_point,
                    bytes=len(m.bitstream), bpp=m.bpp, encode_seconds=m.encode_seconds,
                    decode_seconds=m.decode_seconds, metrics_seconds=metrics_seconds,
                    metrics={name: s.value for name, s in scores.items()},
                    metric_notes={name: s.reason or s.note for name, s in scores.items() if s.reason or s.note},
                    reconstruction_path=key, device=codec.device,
                ))
                try:
                    session.commit()
                    outcome = TaskOutcome.STORED
                except IntegrityError:
                    session.rollback()
                    outcome = TaskOutcome.DUPLICATE
            except Exception as exc:  # the job records it; other tasks and results are unaffected
                session.rollback()
                log.exception("task %s failed", task)
                _record_failure(session, task, f"{type(exc).__name__}: {exc}")
                outcome = TaskOutcome.FAILED
        jobs.refresh_progress(session, task.job_id)
        session.commit()
        return outcome
