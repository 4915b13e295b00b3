"""Jobs, their results, RD curves and reconstructions."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from fastapi import APIRouter, BackgroundTasks, Query, status
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import ColumnElement, func, select

from app.api.deps import TOTAL_COUNT_HEADER, CurrentUser, OptionalUser, Pagination, SessionDep, StorageDep
from app.api.schemas import (
    BDRatesOut,
    CompressAIDocument,
    JobCreated,
    JobOut,
    RDCurvesOut,
    ResultOut,
    RetryOut,
    TaskOut,
)
from app.db.enums import TaskState
from app.db.tables import ImageSet, Job, Task
from app.services.accounts import auth
from app.services.errors import Invalid, NotFound, Unavailable
from app.services.jobs import catalog, jobs, results
from app.services.operations import deletion
from app.settings import get_settings
from engine import queue
from engine.contract import JobRequest, TaskSpec

router = APIRouter(prefix="/api/v1", tags=["jobs"])
log = logging.getLogger(__name__)
ENQUEUE_IN_REQUEST_MAX = 200  # tasks sent before the answer; a larger job's are sent after it (BackgroundTasks)


@router.post("/jobs", status_code=status.HTTP_202_ACCEPTED, response_model=JobCreated)
def create_job(request: JobRequest, session: SessionDep, user: CurrentUser, background: BackgroundTasks) -> Job:
    """Queue one task per image x codec (covering its rate points; one result row per rate point).
    Unknown codecs/metrics and out-of-range rate points are rejected (422) before anything is stored.
    Needs a user who can see the image set. At most ``MAX_RATE_POINTS_PER_REQUEST`` rate points (summed
    over the codecs) per request. A job of more than ``ENQUEUE_IN_REQUEST_MAX`` tasks is answered once it is
    committed and the broker answers; its messages are sent after the answer (its task rows are ``queued``
    already, so the task sweep re-sends any that a dying server did not send)."""
    named, limit = sum(len(c.rate_points or ()) for c in request.codecs), get_settings().max_rate_points_per_request
    if named > limit:
        raise Invalid(
            f"the request names {named} rate points; at most {limit} are allowed per request "
            f"(MAX_RATE_POINTS_PER_REQUEST)"
        )
    target = session.get(ImageSet, request.image_set_id)
    if target is not None:
        auth.require_view_image_set(user, target)
    job, tasks = jobs.create_job(session, request)
    job.owner_id = user.id
    session.commit()  # workers must see the job before its tasks arrive
    kinds = {name: c.kind for name, c in catalog.codecs(session).items()}
    try:
        if len(tasks) > ENQUEUE_IN_REQUEST_MAX:
            reachable = queue.broker_status()
            if reachable != "ok":
                raise RuntimeError(reachable)
            background.add_task(_enqueue_after_answer, job.id, tasks, kinds)
        else:
            queue.enqueue(tasks, kinds)
    except Exception as exc:
        jobs.mark_enqueue_failed(session, job.id, f"could not reach the task queue: {exc}")
        session.commit()
        raise Unavailable(f"job {job.id} stored but the task queue is unreachable: {exc}") from None
    return job


def _enqueue_after_answer(job_id: int, tasks: list[TaskSpec], kinds: Mapping[str, str]) -> None:
    """Send a large job's messages after its 202 (Starlette runs it once the answer is sent). A failure is logged;
    the tasks stay ``queued`` and the sweep sends them again after ``TASK_REDELIVERY_S``."""
    started = time.perf_counter()
    try:
        sent = queue.enqueue(tasks, kinds)
    except Exception as exc:  # broker gone mid-way: the task rows remain queued for the sweep
        log.warning(
            "job %s: sending its %s tasks failed (%s); the task sweep will send them again", job_id, len(tasks), exc
        )
        return
    log.info("job %s: %s tasks sent in %.1f s after the answer", job_id, sent, time.perf_counter() - started)


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(
    session: SessionDep,
    page: Pagination,
    user: OptionalUser,
    status: str | None = Query(None, description="Only jobs with this status"),
    image_set_id: int | None = Query(None, description="Only jobs on this image set"),
    mine: bool = Query(False, description="Only the caller's jobs"),
) -> list[Job]:
    """Jobs the caller may see (those on visible image sets), newest first; ``limit``/``offset`` page them,
    ``X-Total-Count`` gives the total."""
    where: list[ColumnElement[bool]] = [Job.image_set_id.in_(auth.visible_image_set_ids(user))]
    if status:
        where.append(Job.status == status)
    if image_set_id is not None:
        where.append(Job.image_set_id == image_set_id)
    if mine:
        where.append(Job.owner_id == (user.id if user else -1))
    page.set_total(session.scalar(select(func.count()).select_from(Job).where(*where)) or 0)
    return list(
        session.scalars(select(Job).where(*where).order_by(Job.id.desc()).limit(page.limit).offset(page.offset))
    )


def visible_job(session, job_id: int, user) -> Job:
    """The job, if the caller may see it (404 / 401 / 403 otherwise)."""
    job = jobs.get_job(session, job_id)
    auth.require_view_job(user, job)
    return job


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: int, session: SessionDep, user: OptionalUser) -> Job:
    job = visible_job(session, job_id, user)
    job.estimated_seconds_left = jobs.estimated_seconds_left(session, job)  # type: ignore[attr-defined]
    return job


@router.post("/jobs/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: int, session: SessionDep, user: CurrentUser) -> Job:
    """Stop a queued or running job: tasks not yet started are skipped; stored results stay. Who started
    the job or an admin."""
    job = visible_job(session, job_id, user)
    auth.require_owner(user, job.owner_id, f"job {job_id}")
    return jobs.cancel_job(session, job_id)


@router.post("/jobs/{job_id}/retry", status_code=status.HTTP_202_ACCEPTED, response_model=RetryOut)
def retry_job(job_id: int, session: SessionDep, user: CurrentUser) -> RetryOut:
    """Run the job's failed tasks again: each goes back to queued (attempts from zero), its recorded failures are
    deleted so its rate points rerun, and the job is running until they finish. Who started the job or an admin;
    409 when nothing failed or the job was cancelled. If the broker is unreachable the tasks stay queued and the
    workers' sweep sends them later (``sent`` says how many went now)."""
    job = visible_job(session, job_id, user)
    auth.require_owner(user, job.owner_id, f"job {job_id}")
    specs = jobs.retry_failed(session, job, datetime.now(UTC))
    session.commit()  # workers must see the queued rows before the messages arrive
    try:
        sent = queue.enqueue(specs, {name: c.kind for name, c in catalog.codecs(session).items()})
    except Exception as exc:
        return RetryOut(
            job_id=job_id,
            requeued=len(specs),
            sent=0,
            detail=f"the task queue is unreachable ({type(exc).__name__}); the sweep sends them later",
        )
    return RetryOut(job_id=job_id, requeued=len(specs), sent=sent)


@router.get("/jobs/{job_id}/tasks", response_model=list[TaskOut])
def job_tasks(
    job_id: int,
    session: SessionDep,
    page: Pagination,
    user: OptionalUser,
    state: TaskState | None = Query(None, description="Only tasks in this state"),
) -> list[Task]:
    """The job's tasks (one per image x codec covering its rate points) with state, attempts, worker and
    timestamps, in id order; paged by ``limit``/``offset`` with the total in ``X-Total-Count``."""
    visible_job(session, job_id, user)
    page.set_total(jobs.count_tasks(session, job_id, state))
    tasks = jobs.list_tasks(session, job_id, state, limit=page.limit, offset=page.offset)
    done = jobs.rate_points_done(session, job_id)
    for task in tasks:
        task.rate_points_done = min(done.get((task.image_id, task.codec), 0), len(task.rate_points))  # type: ignore[attr-defined]
    return tasks


@router.delete("/jobs/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_job(job_id: int, session: SessionDep, blob_storage: StorageDep, user: CurrentUser) -> None:
    """Delete a finished job with its results and reconstruction files; who started it or an admin.
    409 while it runs (cancel first) or while a human study uses it."""
    job = visible_job(session, job_id, user)
    auth.require_owner(user, job.owner_id, f"job {job_id}")
    keys = deletion.delete_job(session, job)
    session.commit()
    deletion.remove_files(blob_storage, keys)


@router.get(
    "/jobs/{job_id}/results",
    response_model=list[ResultOut],
    responses={200: {"content": {"text/csv": {}}, "description": "JSON array, or CSV with ?format=csv"}},
)
def job_results(
    job_id: int,
    session: SessionDep,
    page: Pagination,
    user: OptionalUser,
    format: str = Query("json", pattern="^(json|csv)$"),
) -> Response:
    """Result rows (ordered by codec, rate point, image), paged by ``limit``/``offset`` with the total in
    ``X-Total-Count``; ``?format=csv`` gives all rows (never paged) as CSV, one column per metric."""
    visible_job(session, job_id, user)
    if format == "csv":
        job = jobs.get_job(session, job_id)
        stored = results.list_results(session, job_id)  # read before the session closes; encoded as sent
        filenames = {image.id: image.filename for image in job.image_set.images}
        return StreamingResponse(
            results.results_csv(stored, list(job.metrics), filenames),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="job-{job_id}-results.csv"'},
        )
    rows = results.results_page_json(session, job_id, limit=page.limit, offset=page.offset)  # ResultOut fields
    return Response(
        rows, media_type="application/json", headers={TOTAL_COUNT_HEADER: str(results.count_results(session, job_id))}
    )


@router.get("/jobs/{job_id}/rd", response_model=RDCurvesOut)
def job_rd(
    job_id: int,
    session: SessionDep,
    user: OptionalUser,
    metric: str = "psnr",
    per_image: bool = False,
    image_id: int | None = Query(None, description="Only this image's curves (implies per_image)"),
) -> Response:
    """RD curves (bpp vs metric) per codec, averaged over images, or per image."""
    visible_job(session, job_id, user)
    return Response(
        results.rd_curves_json(session, job_id, metric, per_image, image_id),  # RDCurvesOut's fields
        media_type="application/json",
    )


@router.get("/jobs/{job_id}/bd-rate", response_model=BDRatesOut)
def job_bd_rate(
    job_id: int,
    session: SessionDep,
    user: OptionalUser,
    anchor: str = "jpeg",
    metric: str = "psnr",
    image_id: int | None = Query(None, description="Compare one image's curves instead of the means"),
) -> dict:
    """BD-rate (% bits at equal quality; negative = fewer bits) and BD-quality of every codec against
    ``anchor``, Bjontegaard with PCHIP over the overlapping range; fewer than 4 overlapping points -> null
    with the reason."""
    visible_job(session, job_id, user)
    return results.bd_rates(session, job_id, anchor, metric, image_id)


@router.get(
    "/jobs/{job_id}/compressai-json",
    response_model=dict[str, CompressAIDocument],
    responses={
        200: {"description": "Codec name -> document; with ``?codec=NAME`` that one document as a file download"}
    },
)
def job_compressai_json(job_id: int, session: SessionDep, user: OptionalUser, codec: str | None = None):
    """Results in CompressAI's JSON format: one document per codec (``?codec=NAME`` downloads one file)."""
    visible_job(session, job_id, user)
    documents = results.compressai_json(session, job_id)
    if codec is None:
        return documents
    if codec not in documents:
        raise NotFound(f"job {job_id} has no results for codec {codec!r}")
    return JSONResponse(
        documents[codec], headers={"Content-Disposition": f'attachment; filename="licbench-job{job_id}-{codec}.json"'}
    )


@router.get(
    "/results/{result_id}/reconstruction", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
def reconstruction(result_id: int, session: SessionDep, blob_storage: StorageDep, user: OptionalUser) -> Response:
    """The decoded image as PNG: exactly the pixels the metrics saw."""
    result = results.get_result(session, result_id)
    visible_job(session, result.job_id, user)
    return Response(blob_storage.get(result.reconstruction_path), media_type="image/png")
