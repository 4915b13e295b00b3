"""Delete a job or an image set: its rows and its files, nothing else (issue 12).

A job that is still queued or running, or that a human study was built from, is refused (409) so that no
worker writes into a deleted job and no study loses its stimuli. Image files are content-addressed and may
be shared by several image sets: a file is removed only when no remaining image uses it."""

from __future__ import annotations

import shutil

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db.enums import JobStatus
from app.db.tables import Image, ImageSet, Job, Result, Study, TaskFailure
from app.services.errors import Conflict
from app.services.storage import BlobStorage, image_key


def _check_deletable(session: Session, job: Job) -> None:
    if job.status in JobStatus.active():
        raise Conflict(f"job {job.id} is still {job.status}: cancel it first")
    study = session.scalar(select(Study.id).where(Study.job_id == job.id).limit(1))
    if study is not None:
        raise Conflict(f"job {job.id} is used by human study {study}; its results stay while the study exists")


def _delete_job_rows(session: Session, job: Job) -> list[str]:
    paths = list(session.scalars(select(Result.reconstruction_path).where(Result.job_id == job.id)))
    session.execute(delete(Result).where(Result.job_id == job.id))
    session.execute(delete(TaskFailure).where(TaskFailure.job_id == job.id))
    session.delete(job)
    return paths


def delete_job(session: Session, job: Job) -> list[str]:
    """Delete ``job`` with its results and failures; returns the storage keys to remove after commit."""
    _check_deletable(session, job)
    keys = _delete_job_rows(session, job)
    session.flush()
    return keys + [f"reconstructions/{job.id}", f"maps/{job.id}"]


def delete_image_set(session: Session, image_set: ImageSet) -> list[str]:
    """Delete ``image_set``, its jobs (all must be deletable) and its images; returns storage keys to remove."""
    jobs = list(session.scalars(select(Job).where(Job.image_set_id == image_set.id)))
    for job in jobs:
        _check_deletable(session, job)
    keys: list[str] = []
    for job in jobs:
        keys += _delete_job_rows(session, job) + [f"reconstructions/{job.id}", f"maps/{job.id}"]
    session.flush()
    hashes = {image.content_hash for image in image_set.images}
    session.execute(delete(Image).where(Image.image_set_id == image_set.id))
    session.delete(image_set)
    session.flush()
    for content_hash in hashes:
        still_used = session.scalar(select(func.count()).select_from(Image).where(Image.content_hash == content_hash))
        if not still_used:
            keys.append(image_key(content_hash))
    return keys


def remove_files(storage: BlobStorage, keys: list[str]) -> None:
    """Remove files and folders named by storage keys (after the rows are committed); missing ones are fine."""
    for key in keys:
        try:
            path = storage.path(key)
        except ValueError:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
