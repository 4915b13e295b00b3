"""Metric values of exactly the pixels a study showed: each condition's crop against its reference crop.

A study that shows crops (``Study.crop`` smaller than the images) is judged on those regions, so its
correlation report must correlate metric values of the crops, not the full-image result values. The
crops are scored through the worker machinery (``licbench.score_study_crops`` on the cpu queue, with the
job's metrics) and stored in ``study_crop_scores``; a redelivered task skips conditions already scored.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.db.tables import Image, Study, StudyCondition, StudyCropScore
from app.services.errors import Unavailable
from app.services.jobs import catalog
from app.services.storage import BlobStorage
from app.services.studies import crops, studies
from app.settings import get_settings
from metrics.scoring import score

log = logging.getLogger(__name__)

SCORE_CROPS_TASK = "licbench.score_study_crops"  # the name workers/analysis_tasks.py registers
STALE_AFTER = timedelta(minutes=10)


def shows_crops(session: Session, study: Study) -> bool:
    """True when some condition's crop box is smaller than its source image."""
    if study.crop is None:
        return False
    sizes = {
        im.id: (im.width, im.height)
        for im in session.scalars(select(Image).where(Image.id.in_({c.image_id for c in study.conditions})))
    }
    for c in study.conditions:
        if c.crop_box is None or c.image_id is None:  # an imported condition: no source image, no crop
            continue
        left, top, width, height = c.crop_box
        if (left, top, width, height) != (0, 0, *sizes.get(c.image_id, (width, height))):
            return True
    return False


def judged_conditions(study: Study) -> list[StudyCondition]:
    """The conditions with a result (the hidden references are the anchor, not a condition to score)."""
    return [c for c in study.conditions if c.result_id is not None]


def progress(session: Session, study: Study) -> tuple[int, int]:
    """(scored, total) crop scores of the study's judged conditions."""
    total = len(judged_conditions(study))
    scored = (
        session.scalar(
            select(func.count())
            .select_from(StudyCropScore)
            .where(StudyCropScore.study_id == study.id, StudyCropScore.scored.is_(True))
        )
        or 0
    )
    return scored, total


def request_scores(session: Session, study: Study) -> tuple[int, int]:
    """Make sure every judged condition's crop is scored or queued: rows for the missing ones are
    stored and their tasks sent (after a commit, so workers see them). Returns (scored, total)."""
    existing = set(session.scalars(select(StudyCropScore.condition_id).where(StudyCropScore.study_id == study.id)))
    missing = [c.id for c in judged_conditions(study) if c.id not in existing]
    if missing:
        for condition_id in missing:
            session.add(StudyCropScore(study_id=study.id, condition_id=condition_id, scored=False, metric_notes={}))
        try:
            session.commit()
        except IntegrityError:  # another request queued them at the same moment
            session.rollback()
            missing = []
        if missing:
            try:
                send(study.id, missing)
            except Exception as exc:  # nothing may wait for tasks that were never sent
                session.execute(
                    delete(StudyCropScore).where(
                        StudyCropScore.study_id == study.id, StudyCropScore.condition_id.in_(missing)
                    )
                )
                session.commit()
                raise Unavailable(f"could not reach the task queue to score the crops: {exc}") from None
    _resend_stale(session, study)
    return progress(session, study)


def _resend_stale(session: Session, study: Study) -> None:
    """Crops still unscored long after they were queued (a lost message) are queued again."""
    cutoff = datetime.now(UTC) - STALE_AFTER
    stale = session.scalars(
        select(StudyCropScore).where(StudyCropScore.study_id == study.id, StudyCropScore.scored.is_(False))
    ).all()
    stale = [r for r in stale if _aware(r.created_at) < cutoff]
    if stale:
        for row in stale:
            row.created_at = datetime.now(UTC)
        session.commit()
        send(study.id, [r.condition_id for r in stale])


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite drops the zone


def send(study_id: int, condition_ids: list[int]) -> int:
    """Queue ``condition_ids`` in chunks on the cpu queue; returns how many messages were sent."""
    from engine.queue import CPU_QUEUE, celery_client

    size = max(1, get_settings().dataset_chunk_images)
    client = celery_client()
    sent = 0
    with client.producer_or_acquire() as producer:
        for i in range(0, len(condition_ids), size):
            client.send_task(
                SCORE_CROPS_TASK, args=[study_id, condition_ids[i : i + size]], queue=CPU_QUEUE, producer=producer
            )
            sent += 1
    return sent


def score_crops(factory: sessionmaker[Session], storage: BlobStorage, study_id: int, condition_ids: list[int]) -> int:
    """Score the crops of ``condition_ids`` against the same image's reference crop with the study's job
    metrics; returns how many were newly stored. A metric that cannot score stores null with its reason."""
    with factory() as session:
        study = session.get(Study, study_id)
        if study is None:
            return 0
        job = studies.study_job(session, study)
        registered = catalog.registry_metrics()
        chosen = [registered[n] for n in job.metrics if n in registered]
        by_id = {c.id: c for c in study.conditions}
        references = {c.image_id: c for c in study.conditions if c.result_id is None}
        pending = session.scalars(
            select(StudyCropScore).where(
                StudyCropScore.study_id == study_id,
                StudyCropScore.condition_id.in_(condition_ids),
                StudyCropScore.scored.is_(False),
            )
        ).all()
        stored = 0
        for row in pending:
            condition = by_id.get(row.condition_id)
            reference = references.get(condition.image_id) if condition else None
            if condition is None or reference is None or condition.image_key is None or reference.image_key is None:
                row.metrics, row.metric_notes = {}, {"*": "condition or its reference crop is missing"}
            else:
                try:
                    ref_pixels = crops.decode_png(storage.get(reference.image_key))
                    pixels = crops.decode_png(storage.get(condition.image_key))
                    values = score(ref_pixels, [pixels], chosen)[0]
                    row.metrics = {name: s.value for name, s in values.items()}
                    row.metric_notes = {name: s.reason for name, s in values.items() if s.reason}
                except Exception as exc:  # recorded, so the report can say why a value is missing
                    log.exception("crop score of condition %s failed", row.condition_id)
                    row.metrics = {n: None for n in job.metrics}
                    row.metric_notes = {n: f"{type(exc).__name__}: {exc}" for n in job.metrics}
            row.scored = True
            stored += 1
            session.commit()
        return stored


def crop_values(session: Session, study_id: int) -> dict[int, dict]:
    """condition id -> stored crop metric values (scored conditions only)."""
    return {
        r.condition_id: r.metrics or {}
        for r in session.scalars(
            select(StudyCropScore).where(StudyCropScore.study_id == study_id, StudyCropScore.scored.is_(True))
        )
    }
