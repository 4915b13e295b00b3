"""Server-rendered pages (Jinja2); live data comes from the REST API via small scripts."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import ColumnElement, func, select

from app.api.deps import OptionalUser, SessionDep
from app.api.routes.vendor import PLOTLY
from app.api.schemas import CodecOut, MetricOut
from app.db.enums import JobStatus
from app.db.tables import ImageSet, Job
from app.services.accounts import auth
from app.services.datasets import image_sets
from app.services.jobs import catalog, jobs
from app.services.operations.demo import DEMO_SET_NAME

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[3] / "templates"))
templates.env.globals["JobStatus"] = JobStatus  # templates compare statuses with the enum, not copies
templates.env.globals["plotly_url"] = PLOTLY.url  # content-hashed, cached for a year (routes/vendor.py)


def current_login(request: Request):
    """The logged-in user and CSRF token of a page request (``app.services.accounts.auth.LoginSession``) or None;
    base.html shows the user and puts the CSRF token where scripts and forms find it."""
    if not hasattr(request.state, "login"):
        from app.db.session import session_scope
        from app.services.accounts.auth import SESSION_COOKIE, read_session

        with session_scope() as session:
            request.state.login = read_session(session, request.cookies.get(SESSION_COOKIE))
    return request.state.login


templates.env.globals["current_login"] = current_login
router = APIRouter(include_in_schema=False)
INDEX_JOBS = 50  # the home page lists the newest jobs


@router.get("/", response_class=HTMLResponse)
def index(request: Request, session: SessionDep, user: OptionalUser):
    visible_sets = list(
        session.scalars(
            select(ImageSet).where(auth.visible_image_sets_clause(user)).order_by(ImageSet.id.desc()).limit(INDEX_JOBS)
        )
    )
    visible_jobs = list(
        session.scalars(
            select(Job)
            .where(Job.image_set_id.in_(auth.visible_image_set_ids(user)))
            .order_by(Job.id.desc())
            .limit(INDEX_JOBS)
        )
    )
    demo_job = session.scalar(
        select(Job)
        .join(ImageSet, Job.image_set_id == ImageSet.id)
        .where(ImageSet.name == DEMO_SET_NAME, auth.visible_image_sets_clause(user))
        .order_by(Job.id.desc())
        .limit(1)
    )
    return templates.TemplateResponse(
        request, "index.html", {"image_sets": visible_sets, "jobs": visible_jobs, "demo_job": demo_job}
    )


LIST_PAGE = 50


def _page_numbers(total: int, page: int) -> dict:
    pages = max(1, -(-total // LIST_PAGE))
    page = min(max(1, page), pages)
    return {"page": page, "pages": pages, "total": total, "offset": (page - 1) * LIST_PAGE}


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    status: str = "",
    image_set_id: str = "",
    mine: bool = False,
    page: int = 1,
):
    """Jobs the visitor may see, newest first, with filters (status, image set, mine) and pages of 50."""
    where: list[ColumnElement[bool]] = [Job.image_set_id.in_(auth.visible_image_set_ids(user))]
    if status:
        where.append(Job.status == status)
    if image_set_id.isdigit():
        where.append(Job.image_set_id == int(image_set_id))
    if mine and user is not None:
        where.append(Job.owner_id == user.id)
    paging = _page_numbers(session.scalar(select(func.count()).select_from(Job).where(*where)) or 0, page)
    rows = list(
        session.scalars(select(Job).where(*where).order_by(Job.id.desc()).limit(LIST_PAGE).offset(paging["offset"]))
    )
    return templates.TemplateResponse(
        request,
        "jobs.html",
        {
            "jobs": rows,
            "statuses": [s.value for s in JobStatus],
            "status": status,
            "image_set_id": image_set_id,
            "mine": mine,
            **paging,
        },
    )


@router.get("/image-sets", response_class=HTMLResponse)
def image_sets_page(
    request: Request, session: SessionDep, user: OptionalUser, visibility: str = "", mine: bool = False, page: int = 1
):
    """Image sets the visitor may see, newest first, with filters (visibility, mine) and pages of 50."""
    where = [auth.visible_image_sets_clause(user)]
    if visibility in auth.VISIBILITIES:
        where.append(ImageSet.visibility == visibility)
    if mine and user is not None:
        where.append(ImageSet.owner_id == user.id)
    paging = _page_numbers(session.scalar(select(func.count()).select_from(ImageSet).where(*where)) or 0, page)
    rows = list(
        session.scalars(
            select(ImageSet).where(*where).order_by(ImageSet.id.desc()).limit(LIST_PAGE).offset(paging["offset"])
        )
    )
    job_counts = dict(
        session.execute(
            select(Job.image_set_id, func.count())
            .where(Job.image_set_id.in_([r.id for r in rows]))
            .group_by(Job.image_set_id)
        ).all()
    )
    return templates.TemplateResponse(
        request,
        "image_sets.html",
        {"image_sets": rows, "job_counts": job_counts, "visibility": visibility, "mine": mine, **paging},
    )


@router.get("/image-sets/{image_set_id}", response_class=HTMLResponse)
def image_set_page(image_set_id: int, request: Request, session: SessionDep, user: OptionalUser):
    image_set = image_sets.get_image_set(session, image_set_id)
    auth.require_view_image_set(user, image_set)
    return templates.TemplateResponse(
        request,
        "image_set.html",
        {
            "image_set": image_set,
            "user": user,
            "codecs": [CodecOut.of(c) for c in catalog.codecs(session).values()],
            "metrics": [MetricOut.of(m) for m in catalog.registry_metrics().values()],
        },
    )


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
@router.get("/jobs/{job_id}/results", response_class=HTMLResponse)
def job_page(job_id: int, request: Request, session: SessionDep, user: OptionalUser):
    job = jobs.get_job(session, job_id)
    auth.require_view_job(user, job)
    return templates.TemplateResponse(request, "job.html", {"job": job, "images": job.image_set.images, "user": user})
