"""Jobs, their results, RD curves and reconstructions."""
from __future__ import annotations

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse, Response, StreamingResponse

from app.api.deps import Pagination, SessionDep, StorageDep
from app.api.schemas import BDRatesOut, CompressAIDocument, JobCreated, JobOut, JobRequest, RDCurvesOut, ResultOut
from app.db.tables import Job, Result
from app.services import catalog, jobs, queue, results
from app.services.errors import ServiceError

router = APIRouter(prefix="/api/v1", tags=["jobs"])


@router.post("/jobs", status_code=status.HTTP_202_ACCEPTED, response_model=JobCreated)
def create_job(request: JobRequest, session: SessionDep) -> Job:
    """Queue one task per image x codec x rate point. Unknown codecs/metrics and out-of-range rate
    points are rejected (422) before anything is stored."""
    job, tasks = jobs.create_job(session, request.image_set_id,
                                 [c.model_dump() for c in request.codecs], request.metrics)
    session.commit()  # workers must see the job before its tasks arrive
    try:
        queue.enqueue(tasks, {name: c.kind for name, c in catalog.codecs(session).items()})
    except Exception as exc:
        jobs.mark_enqueue_failed(session, job.id, f"could not reach the task queue: {exc}")
        session.commit()
        raise ServiceError(f"job {job.id} stored but the task queue is unreachable: {exc}", 503) from None
    return job


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(session: SessionDep, page: Pagination) -> list[Job]:
    """Jobs, newest first; ``limit``/``offset`` page them, ``X-Total-Count`` gives the total."""
    page.set_total(jobs.count_jobs(session))
    return jobs.list_jobs(session, limit=page.limit, offset=page.offset)


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: int, session: SessionDep) -> Job:
    return jobs.get_job(session, job_id)


@router.post("/jobs/{job_id}/cancel", response_model=JobOut)
def cancel_job(job_id: int, session: SessionDep) -> Job:
    """Stop a queued or running job: tasks not yet started are skipped; stored results stay."""
    return jobs.cancel_job(session, job_id)


@router.get("/jobs/{job_id}/results", response_model=list[ResultOut],
            responses={200: {"content": {"text/csv": {}}, "description": "JSON array, or CSV with ?format=csv"}})
def job_results(job_id: int, session: SessionDep, page: Pagination,
                format: str = Query("json", pattern="^(json|csv)$")) -> list[Result] | StreamingResponse:
    """Result rows (ordered by codec, rate point, image), paged by ``limit``/``offset`` with the total in
    ``X-Total-Count``; ``?format=csv`` gives all rows (never paged) as CSV, one column per metric."""
    if format == "csv":
        job = jobs.get_job(session, job_id)
        rows = results.list_results(session, job_id)  # read before the session closes; encoded as sent
        return StreamingResponse(results.results_csv(rows, list(job.metrics)), media_type="text/csv",
                                 headers={"Content-Disposition": f'attachment; filename="job-{job_id}-results.csv"'})
    rows = results.list_results(session, job_id, limit=page.limit, offset=page.offset)
    page.set_total(results.count_results(session, job_id))
    return rows


@router.get("/jobs/{job_id}/rd", response_model=RDCurvesOut)
def job_rd(job_id: int, session: SessionDep, metric: str = "psnr", per_image: bool = False) -> dict:
    """RD curves (bpp vs metric) per codec, averaged over images, or per image."""
    return results.rd_curves(session, job_id, metric, per_image)


@router.get("/jobs/{job_id}/bd-rate", response_model=BDRatesOut)
def job_bd_rate(job_id: int, session: SessionDep, anchor: str = "jpeg", metric: str = "psnr") -> dict:
    """BD-rate (% bits at equal quality; negative = fewer bits) and BD-quality of every codec against
    ``anchor``, Bjontegaard with PCHIP over the overlapping range; fewer than 4 overlapping points -> null
    with the reason."""
    return results.bd_rates(session, job_id, anchor, metric)


@router.get("/jobs/{job_id}/compressai-json", response_model=dict[str, CompressAIDocument],
            responses={200: {"description": "Codec name -> document; with ``?codec=NAME`` that one document "
                                            "as a file download"}})
def job_compressai_json(job_id: int, session: SessionDep, codec: str | None = None):
    """Results in CompressAI's JSON format: one document per codec (``?codec=NAME`` downloads one file)."""
    documents = results.compressai_json(session, job_id)
    if codec is None:
        return documents
    if codec not in documents:
        raise ServiceError(f"job {job_id} has no results for codec {codec!r}", 404)
    return JSONResponse(documents[codec], headers={
        "Content-Disposition": f'attachment; filename="licbench-job{job_id}-{codec}.json"'})


@router.get("/results/{result_id}/reconstruction", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def reconstruction(result_id: int, session: SessionDep,
                   blob_storage: StorageDep) -> Response:
    """The decoded image as PNG: exactly the pixels the metrics saw."""
    result = results.get_result(session, result_id)
    return Response(blob_storage.get(result.reconstruction_path), media_type="image/png")
