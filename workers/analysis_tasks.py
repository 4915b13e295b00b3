"""Celery tasks of the metric analysis (issue 10): thin wrappers over the data set and crop scoring services.

On the cpu queue; an imported data set is verified by one task that then sends its scoring in chunks
(``DATASET_CHUNK_IMAGES`` images each), so several workers share a large data set. Study crops are
scored the same way, condition ids per task. Tasks are ``shared_task``s: they bind to the worker's app
(``workers.celery_app`` includes this module), so this module does not import that one back.
"""

from __future__ import annotations

from celery import shared_task

from app.db.session import session_factory
from app.services.datasets import iqa_datasets
from app.services.storage import default_storage
from app.services.studies import crop_scores, studies


@shared_task(name=iqa_datasets.PREPARE_TASK)
def prepare_dataset(dataset_id: int) -> int:
    """Decode every image of the data set, then queue its scoring; returns how many chunks were sent."""
    chunks = iqa_datasets.prepare(session_factory(), default_storage(), int(dataset_id))
    return iqa_datasets.enqueue_scoring(int(dataset_id), chunks) if chunks else 0


@shared_task(name=iqa_datasets.SCORE_TASK)
def score_dataset_images(dataset_id: int, image_ids: list[int]) -> int:
    """Score one chunk of distorted images against their references."""
    return iqa_datasets.score_images(session_factory(), default_storage(), int(dataset_id), [int(i) for i in image_ids])


@shared_task(name=crop_scores.SCORE_CROPS_TASK)
def score_study_crops(study_id: int, condition_ids: list[int]) -> int:
    """Score study conditions' crops against their reference crops with the job's metrics."""
    return crop_scores.score_crops(session_factory(), default_storage(), int(study_id), [int(i) for i in condition_ids])


@shared_task(name=studies.SCALE_TASK)
def compute_study_scale(study_id: int) -> bool:
    """Compute and cache an imported or triplet study's scale (``GET /scale`` answers 202 until then)."""
    return studies.compute_and_store_scale(session_factory(), int(study_id))
