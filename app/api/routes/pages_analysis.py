"""Metric report cards (``/analysis/studies/{id}``, ``/analysis/iqa-datasets/{id}``) and the data set list
with its import form; the numbers come from the REST API (``.../report``) via ``static/analysis_report.js``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from analysis.iqa_datasets import is_scores_only, layout_names
from app.api.deps import OptionalUser, SessionDep
from app.api.routes.pages import templates
from app.services.accounts import auth
from app.services.datasets import iqa_datasets
from app.services.errors import Conflict
from app.services.jobs import jobs
from app.services.studies import gmad, studies

router = APIRouter(include_in_schema=False)


@router.get("/analysis/studies/{study_id}", response_class=HTMLResponse)
def study_report_page(study_id: int, request: Request, session: SessionDep, user: OptionalUser):
    study = studies.get_study(session, study_id)
    studies.require_view(session, user, study)
    if study.imported:
        raise Conflict(f"study {study.id} is imported: no metric values are linked to its conditions")
    return templates.TemplateResponse(
        request,
        "analysis_report.html",
        {
            "title": f"Study #{study.id} “{study.name}”",
            "api": f"/api/v1/studies/{study.id}",
            "kind": "study",
            "scores_only": False,
            "subtitle": f"{study.method} study of job #{study.job_id}",
            "back": f"/studies/{study.id}",
            "gmad": gmad.gmad_study(session, study.id) is not None,
            "observers": studies.progress(session, study)["sessions_complete"],
        },
    )


@router.get("/analysis/iqa-datasets/{dataset_id}", response_class=HTMLResponse)
def dataset_report_page(dataset_id: int, request: Request, session: SessionDep):
    dataset = iqa_datasets.get_dataset(session, dataset_id)
    scores_only = is_scores_only(dataset.layout)
    return templates.TemplateResponse(
        request,
        "analysis_report.html",
        {
            "title": f"Data set #{dataset.id} “{dataset.name}”",
            "api": f"/api/v1/iqa-datasets/{dataset.id}",
            "kind": "dataset",
            "scores_only": scores_only,
            "subtitle": f"{dataset.layout} layout · {dataset.n_references} "
            f"{'sources' if scores_only else 'references'} · {dataset.n_distorted} "
            f"{'items, scores only (no images)' if scores_only else 'distorted'} · {dataset.unit}",
            "back": "/analysis/iqa-datasets",
            "gmad": False,
        },
    )


@router.get("/analysis/iqa-datasets", response_class=HTMLResponse)
def datasets_page(request: Request, session: SessionDep):
    return templates.TemplateResponse(
        request, "analysis_datasets.html", {"datasets": iqa_datasets.list_datasets(session), "layouts": layout_names()}
    )


@router.get("/analysis/jobs/{job_id}/gmad", response_class=HTMLResponse)
def gmad_page(job_id: int, request: Request, session: SessionDep, user: OptionalUser):
    job = jobs.get_job(session, job_id)
    auth.require_view_job(user, job)
    return templates.TemplateResponse(request, "analysis_gmad.html", {"job": job})
