"""The reconstruction viewer (issue 12): ``/results/{id}`` page, its data and error maps over REST."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.api.deps import OptionalUser, SessionDep, StorageDep
from app.api.routes.pages import templates
from app.services.accounts import auth
from app.services.jobs import jobs, results, viewer

router = APIRouter(prefix="/api/v1", tags=["jobs"])
pages_router = APIRouter(include_in_schema=False)


def _visible_result(session, result_id: int, user):
    result = results.get_result(session, result_id)
    auth.require_view_job(user, jobs.get_job(session, result.job_id))
    return result


@router.get("/results/{result_id}")
def result_detail(result_id: int, session: SessionDep, user: OptionalUser) -> dict:
    """One result with its image, metric values, bytes, bpp, timings, the URLs of the original, the
    reconstruction and error maps, and the other reconstructions of the same image in the job."""
    return viewer.detail(session, _visible_result(session, result_id, user))


@router.get(
    "/results/{result_id}/maps/{kind}", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
def result_map(result_id: int, kind: str, session: SessionDep, storage: StorageDep, user: OptionalUser) -> Response:
    """Error map as PNG: ``abs`` (|difference| x4 per channel), ``ssim`` (1 - local SSIM) or ``flip``
    (FLIP error); black = no error."""
    result = _visible_result(session, result_id, user)
    return Response(viewer.error_map_png(session, storage, result, kind), media_type="image/png")


@pages_router.get("/results/{result_id}", response_class=HTMLResponse)
def viewer_page(result_id: int, request: Request, session: SessionDep, user: OptionalUser, compare: int | None = None):
    result = _visible_result(session, result_id, user)
    data = viewer.detail(session, result)
    job = jobs.get_job(session, result.job_id)
    return templates.TemplateResponse(request, "viewer.html", {"r": data, "job": job, "compare": compare})
