"""IQA data sets: import a published layout from a zip, follow its scoring, read its scores."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import Response

from app.api.deps import Pagination, SessionDep, StorageDep
from app.api.rate_limits import UploadingUser
from app.api.schemas_analysis import DatasetCreated, DatasetOut, ScoreRow
from app.services.datasets import iqa_datasets
from app.settings import get_settings

router = APIRouter(prefix="/api/v1/iqa-datasets", tags=["metric analysis"])


def _metric_list(text: str | None) -> list[str] | None:
    return None if text is None or not text.strip() else [m for m in text.split(",") if m.strip()]


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=DatasetCreated)
def import_dataset(
    session: SessionDep,
    storage: StorageDep,
    user: UploadingUser,
    name: str = Form(...),
    layout: str = Form(
        ..., description="tid2013, kadid10k, csiq, live, clic2021-perceptual, generic-csv, aic4 (scores only)"
    ),
    archive: UploadFile = File(..., description="zip of the data set as it ships"),
    higher_is_better: bool | None = Form(None, description="generic-csv only: score direction"),
    metrics: str | None = Form(None, description="comma-separated metric names; default every available one"),
) -> dict:
    """Check the archive's structure and score file now (a bad archive: 4xx, nothing stored), then decode
    and score every image in the background (``status`` queued -> running -> succeeded | failed). The
    archive may be up to ``MAX_DATASET_BYTES``. Needs a user (bearer token or session cookie).
    A scores-only layout (``aic4``: human scores and shipped metric values, no images) is ``succeeded``
    at once with ``scores_only: true``; no task is queued."""
    limit = get_settings().max_dataset_bytes
    workdir = Path(tempfile.mkdtemp(prefix="licbench-dataset-"))
    try:
        zip_path = workdir / "archive.zip"
        iqa_datasets.copy_limited(archive.file, zip_path, limit)
        dataset = iqa_datasets.import_dataset(
            session,
            storage,
            zip_path,
            name=name,
            layout=layout,
            higher_is_better=higher_is_better,
            metrics=_metric_list(metrics),
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    session.commit()  # the worker must see the data set before its task arrives
    iqa_datasets.enqueue_prepare(session, dataset)
    return iqa_datasets.dataset_json(dataset)


@router.get("", response_model=list[DatasetOut])
def list_datasets(session: SessionDep, page: Pagination) -> list[dict]:
    """Imported data sets, newest first (``limit``/``offset``; total in ``X-Total-Count``)."""
    return [iqa_datasets.dataset_json(d) for d in page.slice(iqa_datasets.list_datasets(session))]


@router.get("/{dataset_id}", response_model=DatasetOut)
def get_dataset(dataset_id: int, session: SessionDep) -> dict:
    """The data set, its status and progress (phase verifying or scoring, done of total); ``error`` when failed."""
    return iqa_datasets.dataset_json(iqa_datasets.get_dataset(session, dataset_id))


@router.get("/{dataset_id}/scores", response_model=list[ScoreRow])
def dataset_scores(
    dataset_id: int, session: SessionDep, page: Pagination, format: str = Query("json", pattern="^(json|csv)$")
):
    """Human score and metric values per distorted image; ``?format=csv`` gives every row as CSV."""
    dataset = iqa_datasets.get_dataset(session, dataset_id)
    rows = iqa_datasets.scores_rows(session, dataset)
    if format == "csv":
        return Response(
            iqa_datasets.scores_csv(dataset, rows),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="iqa-dataset-{dataset_id}-scores.csv"'},
        )
    return page.slice(rows)


@router.get("/{dataset_id}/image", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def dataset_image(
    dataset_id: int,
    session: SessionDep,
    storage: StorageDep,
    path: str = Query(..., description="a path the score file names"),
) -> Response:
    """One image of the data set as PNG (only paths its index names)."""
    dataset = iqa_datasets.get_dataset(session, dataset_id)
    return Response(
        iqa_datasets.image_png(session, storage, dataset, path),
        media_type="image/png",
        headers={"Cache-Control": "private, max-age=3600"},
    )
