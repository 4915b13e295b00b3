"""The demo benchmark: photos shipped inside installed wheels, every available codec."""

from __future__ import annotations

import io

from PIL import Image as PILImage
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.tables import ImageSet, Job, User
from app.services.datasets import image_sets
from app.services.datasets.image_sets import Upload
from app.services.jobs import catalog, jobs
from app.services.storage import BlobStorage
from engine.contract import (
    DEMO_MAX_SECONDS_PER_MEGAPIXEL,
    CodecSelection,
    JobRequest,
    TaskSpec,
    seconds_per_megapixel,
)
from models.photos import demo_photos

DEMO_SET_NAME = "demo: scikit-image photos"


def demo_uploads() -> list[Upload]:
    uploads = []
    for name, pixels in demo_photos().items():
        buffer = io.BytesIO()
        PILImage.fromarray(pixels, "RGB").save(buffer, format="PNG")
        uploads.append(Upload(f"{name}.png", buffer.getvalue()))
    return uploads


def in_demo(codec: str, kind: str) -> bool:
    """Whether the default demo job runs ``codec``: every available codec but the slow ones (the refined encoder,
    minutes per image and rate point on a CPU), which stay one click away on the job form with their cost shown."""
    return seconds_per_megapixel(codec, kind) <= DEMO_MAX_SECONDS_PER_MEGAPIXEL


def create_demo_job(
    session: Session, storage: BlobStorage, owner: User | None = None
) -> tuple[Job, list[TaskSpec]] | None:
    """Load the demo image set (public, so the leaderboard has something on a fresh start) and a job over
    every available codec but the slow ones (:func:`in_demo`), both owned by ``owner``; None if a demo job exists."""
    existing = session.scalar(select(ImageSet).where(ImageSet.name == DEMO_SET_NAME))
    if existing is not None and session.scalar(select(Job).where(Job.image_set_id == existing.id)) is not None:
        return None
    image_set = existing or image_sets.create_image_set(session, storage, DEMO_SET_NAME, demo_uploads())
    image_set.visibility = "public"
    if owner is not None and image_set.owner_id is None:
        image_set.owner_id = owner.id
    selection = [
        CodecSelection(name=c.name, rate_points=list(c.rate.points))
        for c in catalog.codecs(session).values()
        if c.availability().available and in_demo(c.name, c.kind)
    ]
    request = JobRequest(image_set_id=image_set.id, codecs=selection, metrics=list(jobs.DEFAULT_METRICS))
    job, tasks = jobs.create_job(session, request)
    job.owner_id = owner.id if owner is not None else None
    return job, tasks
