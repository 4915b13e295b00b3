"""Server-rendered pages (Jinja2); live data comes from the REST API via small scripts."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from app.api.deps import SessionDep
from app.api.schemas import CodecOut, MetricOut
from app.db.enums import JobStatus
from app.services import catalog, image_sets, jobs

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[3] / "templates"))
templates.env.globals["JobStatus"] = JobStatus  # templates compare statuses with the enum, not copies
router = APIRouter(include_in_schema=False)
INDEX_JOBS = 50  # the home page lists the newest jobs


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep):
    return templates.TemplateResponse(request, "index.html", {
        "image_sets": image_sets.list_image_sets(session), "jobs": jobs.list_jobs(session, limit=INDEX_JOBS)})


@router.get("/image-sets/{image_set_id}", response_class=HTMLResponse)
def image_set_page(image_set_id: int, request: Request, session: SessionDep):
    return templates.TemplateResponse(request, "image_set.html", {
        "image_set": image_sets.get_image_set(session, image_set_id),
        "codecs": [CodecOut.of(c) for c in catalog.codecs(session).values()],
        "metrics": [MetricOut.of(m) for m in catalog.registry_metrics().values()]})


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
@router.get("/jobs/{job_id}/results", response_class=HTMLResponse)
def job_page(job_id: int, request: Request, session: SessionDep):
    job = jobs.get_job(session, job_id)
    return templates.TemplateResponse(request, "job.html", {"job": job, "images": job.image_set.images})
