"""Metric vs human analysis: correlation reports and report cards of studies and IQA data sets, gMAD."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse, Response

from app.api.deps import CurrentUser, OptionalUser, SessionDep, StorageDep
from app.api.schemas_analysis import CorrelationOut, GmadOut, GmadStudyCreated, GmadStudyRequest, Pending, ReportOut
from app.db.tables import StudyCondition
from app.services.accounts import auth
from app.services.errors import NotFound
from app.services.jobs import jobs
from app.services.studies import correlation, gmad, studies

router = APIRouter(prefix="/api/v1", tags=["metric analysis"])

GROUP_QUERY = Query("overall", description="overall | family | codec | band | image | distortion")
FIT_QUERY = Query("logistic4", description="logistic4 (VQEG) | logistic5 (Sheikh et al. 2006)")
SCORING: dict[int | str, dict[str, Any]] = {
    202: {"model": Pending, "description": "metric values (crops or data set images) are still being scored"}
}
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **SCORING,
    200: {"content": {"text/csv": {}}, "description": "the report (JSON), or its observations with ?format=csv"},
}


def _visible_study(session, study_id: int, user) -> None:
    """A study's analysis shows its job's images: visible where the job is (404 / 401 / 403 otherwise)."""
    studies.require_view(session, user, studies.get_study(session, study_id))


def _visible_job(session, job_id: int, user) -> None:
    auth.require_view_job(user, jobs.get_job(session, job_id))


def _pending(result: correlation.Pending) -> JSONResponse:
    return JSONResponse(result.to_dict(), status_code=status.HTTP_202_ACCEPTED)


@router.get("/studies/{study_id}/correlation", response_model=CorrelationOut, responses=SCORING)
def study_correlation(
    study_id: int, session: SessionDep, user: OptionalUser, group: str = GROUP_QUERY, fit: str = FIT_QUERY
):
    """SROCC/KROCC/PLCC/RMSE of every metric the job measured against the study's scale (JOD or MOS),
    with 95% bootstrap intervals over source images, per ``group`` value, and metric-vs-metric tests.
    A study that showed crops is correlated on the crops' metric values: 202 while they are scored."""
    correlation.check_query(group, fit)
    _visible_study(session, study_id, user)
    source = correlation.study_source(session, study_id)
    if isinstance(source, correlation.Pending):
        return _pending(source)
    return correlation.correlation(session, source, group, fit)


@router.get("/iqa-datasets/{dataset_id}/correlation", response_model=CorrelationOut, responses=SCORING)
def dataset_correlation(dataset_id: int, session: SessionDep, group: str = GROUP_QUERY, fit: str = FIT_QUERY):
    """The same report for an imported data set (human score = its MOS/DMOS oriented higher = better;
    2AFC layouts give each metric's agreement with the human choices). 202 while it is scored, 409 failed."""
    correlation.check_query(group, fit)
    source = correlation.dataset_source(session, dataset_id)
    if isinstance(source, correlation.Pending):
        return _pending(source)
    return correlation.correlation(session, source, group, fit)


def _report(source, session, fit: str, format: str, name: str):
    if isinstance(source, correlation.Pending):
        return _pending(source)
    if format == "csv":
        return Response(
            correlation.observations_csv(source),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}-observations.csv"'},
        )
    return correlation.report(session, source, fit)


@router.get("/studies/{study_id}/report", response_model=ReportOut, responses=REPORT_RESPONSES)
def study_report(
    study_id: int,
    session: SessionDep,
    user: OptionalUser,
    fit: str = FIT_QUERY,
    format: str = Query("json", pattern="^(json|csv)$"),
):
    """The report card: overall correlation, scatter points, worst disagreements (largest residuals from
    the fitted logistic, and pairs whose metric order contradicts a confident human order) and the
    codec-family bias per metric; ``?format=csv`` the observations behind it."""
    correlation.check_query("overall", fit)
    _visible_study(session, study_id, user)
    return _report(correlation.study_source(session, study_id), session, fit, format, f"study-{study_id}")


@router.get("/iqa-datasets/{dataset_id}/report", response_model=ReportOut, responses=REPORT_RESPONSES)
def dataset_report(
    dataset_id: int, session: SessionDep, fit: str = FIT_QUERY, format: str = Query("json", pattern="^(json|csv)$")
):
    """The report card of an imported data set (see the study report)."""
    correlation.check_query("overall", fit)
    return _report(correlation.dataset_source(session, dataset_id), session, fit, format, f"iqa-dataset-{dataset_id}")


@router.get(
    "/studies/{study_id}/conditions/{condition_id}/image",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def condition_image(
    study_id: int, condition_id: int, session: SessionDep, storage: StorageDep, user: OptionalUser
) -> Response:
    """The stimulus people judged for a condition (the crop of its reconstruction, or of the reference)."""
    _visible_study(session, study_id, user)
    condition = session.get(StudyCondition, condition_id)
    if condition is None or condition.study_id != studies.get_study(session, study_id).id:
        raise NotFound(f"study {study_id} has no condition {condition_id}")
    if condition.image_key is None:  # an imported study has no images
        raise NotFound(f"condition {condition_id} of study {study_id} has no image (imported study)")
    return Response(storage.get(condition.image_key), media_type="image/png")


@router.get(
    "/studies/{study_id}/images/{image_id}/reference",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def reference_image(
    study_id: int, image_id: int, session: SessionDep, storage: StorageDep, user: OptionalUser
) -> Response:
    """The reference stimulus of a source image as people saw it (same crop as its conditions)."""
    _visible_study(session, study_id, user)
    study = studies.get_study(session, study_id)
    for c in study.conditions:
        if c.image_id == image_id and c.result_id is None and c.image_key:
            return Response(storage.get(c.image_key), media_type="image/png")
    raise NotFound(f"study {study_id} has no image {image_id}")


@router.get("/jobs/{job_id}/gmad", response_model=GmadOut)
def job_gmad(
    job_id: int,
    session: SessionDep,
    user: OptionalUser,
    defender: str = "psnr",
    attacker: str = "ms-ssim",
    pairs: int = Query(10, ge=1, le=1000),
    tolerance: float | None = Query(None, ge=0, description="defender gap allowed; default 2% of its range per image"),
):
    """gMAD (Ma et al. 2018): pairs of reconstructions of one source image that the defender scores
    nearly equal and the attacker scores most differently; ``a`` is the one the attacker prefers."""
    _visible_job(session, job_id, user)
    return {
        "job_id": job_id,
        "defender": defender,
        "attacker": attacker,
        "pairs": gmad.pairs_for_job(session, job_id, defender, attacker, pairs, tolerance),
    }


@router.post("/jobs/{job_id}/gmad/study", status_code=status.HTTP_201_CREATED, response_model=GmadStudyCreated)
def job_gmad_study(
    job_id: int, body: GmadStudyRequest, request: Request, session: SessionDep, storage: StorageDep, user: CurrentUser
) -> dict:
    """Turn the gMAD pairs into a pairwise study so people settle which metric was right; once answered,
    ``GET /api/v1/studies/{id}/gmad`` gives each metric's aggressiveness and resistance."""
    _visible_job(session, job_id, user)
    link, n_pairs = gmad.create_study(session, storage, job_id, **body.model_dump())
    study = studies.get_study(session, link.study_id)
    session.commit()  # the 201 means stored: the participant link works at once
    return {
        "study_id": study.id,
        "job_id": job_id,
        "pairs": n_pairs,
        "participant_url": str(request.base_url).rstrip("/") + studies.participant_path(study),
        "report_url": f"/analysis/studies/{study.id}",
    }


@router.get("/studies/{study_id}/gmad")
def study_gmad(study_id: int, session: SessionDep, user: OptionalUser) -> dict:
    """For a study made from gMAD pairs: how people chose in each pair, and per metric its
    aggressiveness (how often its attacks won) and resistance (how often its defences held)."""
    _visible_study(session, study_id, user)
    return gmad.study_summary(session, study_id)
