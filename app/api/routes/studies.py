"""Human studies: create from a finished job, observer sessions, trials, answers, scale, raw CSV.

Owner side (accounts, issue 12): a study is visible where its job is; creating and closing it, its token
(the participant link) and the raw responses (participant names) belong to the job's owner and admins.
Participant side: no account; the study's token opens a session and the session id authorises the rest."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile, status
from fastapi.responses import JSONResponse, Response

from app.api.deps import CurrentUser, OptionalUser, Pagination, SessionDep, StorageDep
from app.api.rate_limits import UploadingUser
from app.api.schemas_studies import (
    ImportedStudyOut,
    ResponseRequest,
    ResponseRow,
    ResponseStored,
    ScaleOut,
    SessionCreated,
    SessionRequest,
    StudyOut,
    StudyProgress,
    StudyRequest,
    TrialOut,
)
from app.api.uploads import read_limited
from app.db.tables import Job, Study, User
from app.services.accounts import auth
from app.services.errors import Unauthenticated
from app.services.studies import studies, study_imports
from app.settings import get_settings

router = APIRouter(prefix="/api/v1", tags=["studies"])


class StudyDetail(StudyOut):
    progress: StudyProgress


def _visible_study(session, study_id: int, user: User | None) -> tuple[Study, Job | None]:
    """The study and its job (None for an imported study), if the caller may see it (404 / 401 / 403)."""
    study = studies.get_study(session, study_id)
    studies.require_view(session, user, study)
    return study, None if study.imported else session.get(Job, study.job_id)


def _owns(user: User | None, study: Study, session) -> bool:
    return auth.is_admin(user) or (user is not None and studies.study_owner_id(session, study) == user.id)


def _require_owner(user: User | None, study: Study, job: Job | None, what: str) -> None:
    if user is None:
        raise Unauthenticated(f"log in first: {what} belongs to the study's owner")
    if job is None:
        auth.require_owner(user, study.owner_id, f"study {study.id}")
    else:
        auth.require_owner(user, job.owner_id, f"the study's job {job.id}")


@router.post("/studies", status_code=status.HTTP_201_CREATED, response_model=StudyOut)
def create_study(
    body: StudyRequest, request: Request, session: SessionDep, storage: StorageDep, user: CurrentUser
) -> dict:
    """A study over a succeeded job's results (default: all) plus one hidden reference per source image.
    Unknown job 404, job not succeeded 409, results of another job or < 2 conditions per image 422;
    nothing is stored then. Needs the job's owner (or an admin)."""
    job = session.get(Job, body.job_id)
    if job is not None:
        auth.require_view_job(user, job)
        auth.require_owner(user, job.owner_id, f"job {job.id}")
    study = studies.create_study(session, storage, studies.StudySpec(**body.model_dump()))
    session.commit()  # visible to the next request before this response is sent
    return studies.study_json(study, str(request.base_url), with_token=True)


@router.post("/studies/import", status_code=status.HTTP_201_CREATED, response_model=ImportedStudyOut)
def import_study(
    user: UploadingUser,
    session: SessionDep,
    name: str = Form(..., min_length=1, max_length=200),
    format: str = Form(..., description="pwcmp (pairwise CSV) or aic3 (JPEG AIC-3 triplet response CSVs)"),
    files: list[UploadFile] = File(..., description="one or more CSV files; BTC and PTC files scale jointly"),
    reference: str | None = Form(None, description="pwcmp: the label that scores 0 in every group"),
    visibility: str = Form("private", description="private (owner and admins; default) or public"),
) -> dict:
    """A published study's answers as a read-only study (no sessions; 409 on writes). Every file is checked
    first: bad input answers 4xx naming the file, row and column, and nothing is stored. The scale is
    computed by a worker (``GET /scale`` answers 202 until then)."""
    limit = get_settings().max_upload_bytes
    uploads = [(f.filename or "upload.csv", read_limited(f, limit)) for f in files]
    study, body = study_imports.import_study(
        session,
        study_imports.ImportSpec(
            name=name,
            format=format,
            files=uploads,
            reference=reference or None,
            visibility=visibility,
            owner_id=user.id,
        ),
    )
    session.commit()
    return body


@router.get("/studies", response_model=list[StudyOut])
def list_studies(request: Request, session: SessionDep, page: Pagination, user: OptionalUser) -> list[dict]:
    """Studies whose job the caller may see, newest first, paged by ``limit``/``offset`` (total in
    ``X-Total-Count``); ``token`` and ``participant_url`` only for the job's owner and admins."""
    visible = []
    for s in studies.list_studies(session):
        if studies.can_view(session, user, s):
            visible.append((s, _owns(user, s, session)))
    return [studies.study_json(s, str(request.base_url), with_token=owner) for s, owner in page.slice(visible)]


@router.get("/studies/{study_id}", response_model=StudyDetail)
def get_study(study_id: int, request: Request, session: SessionDep, user: OptionalUser) -> dict:
    """The study, its conditions and live progress (sessions, answered trials per condition)."""
    study, job = _visible_study(session, study_id, user)
    return {
        **studies.study_json(study, str(request.base_url), with_token=_owns(user, study, session)),
        "progress": studies.progress(session, study),
    }


@router.post("/studies/{study_id}/close", response_model=StudyOut)
def close_study(study_id: int, request: Request, session: SessionDep, user: CurrentUser) -> dict:
    """Stop serving trials (``next`` answers 204, answers 409); stored answers and the scale stay. The job's
    owner or an admin."""
    study, job = _visible_study(session, study_id, user)
    _require_owner(user, study, job, f"study {study_id}")
    study = studies.close_study(session, study_id)
    session.commit()
    return studies.study_json(study, str(request.base_url), with_token=True)


@router.post("/studies/{study_id}/sessions", status_code=status.HTTP_201_CREATED, response_model=SessionCreated)
def start_session(study_id: int, body: SessionRequest, session: SessionDep) -> dict:
    """A new observer session; the study's token is the credential (wrong token 403, closed study 409)."""
    sitting = studies.start_session(
        session, study_id, body.token, body.participant, body.display.model_dump() if body.display else None
    )
    session.commit()
    return {"id": sitting.id}


@router.get(
    "/studies/{study_id}/sessions/{session_id}/next",
    response_model=TrialOut,
    responses={204: {"description": "session complete or study closed"}},
)
def next_trial(study_id: int, session_id: str, session: SessionDep):
    """The session's current trial (the same until answered, so a reload resumes), or 204 when done."""
    trial = studies.next_trial(session, study_id, session_id)
    session.commit()  # a served trial must exist before the participant can answer it
    if trial is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    sitting = studies.get_session(session, studies.get_study(session, study_id), session_id)
    return studies.trial_json(trial, studies.session_total(sitting))


@router.post(
    "/studies/{study_id}/sessions/{session_id}/responses",
    status_code=status.HTTP_201_CREATED,
    response_model=ResponseStored,
)
def record_response(study_id: int, session_id: str, body: ResponseRequest, session: SessionDep) -> dict:
    """One answer: ``choice`` a|b (pairwise) or ``score`` 1..5 (dsis). Twice or closed 409."""
    trial = studies.record_response(
        session, study_id, session_id, body.trial_id, body.choice, body.score, body.response_ms
    )
    session.commit()  # the next `next` must see this answer, or it would serve the same trial again
    sitting = studies.get_session(session, studies.get_study(session, study_id), session_id)
    return {"trial_id": trial.id, "position": trial.position, "total": studies.session_total(sitting)}


@router.get(
    "/studies/{study_id}/sessions/{session_id}/trials/{trial_id}/{which}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def trial_image(
    study_id: int,
    session_id: str,
    trial_id: int,
    which: Literal["a", "b", "reference", "left", "right", "pivot"],
    session: SessionDep,
    storage: StorageDep,
) -> Response:
    """A trial's stimulus (cropped PNG), authorised by the session id."""
    data = studies.trial_image(session, storage, study_id, session_id, trial_id, which)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get(
    "/studies/{study_id}/scale",
    response_model=ScaleOut,
    responses={
        202: {
            "description": '{"status": "computing"}: a worker computes the scale (imported and '
            "triplet studies); ask again"
        }
    },
)
def study_scale(study_id: int, session: SessionDep, user: OptionalUser):
    """JOD per group with the reference at 0 (pairwise), JND turned to quality (triplet: score = -jnd, the
    reference at 0) or MOS (dsis), 95% intervals, observer screening; cached, recomputed only when answers
    arrived since. Imported and triplet scales come from a worker: 202 until it is ready."""
    _visible_study(session, study_id, user)
    scale = studies.study_scale(session, study_id)
    if scale is None:
        return JSONResponse({"status": "computing"}, status_code=status.HTTP_202_ACCEPTED)
    return scale


@router.get(
    "/studies/{study_id}/responses", response_model=list[ResponseRow], responses={200: {"content": {"text/csv": {}}}}
)
def study_responses(
    study_id: int,
    session: SessionDep,
    page: Pagination,
    user: OptionalUser,
    format: str = Query("json", pattern="^(json|csv)$"),
):
    """Answered trials in pwcmp's columns plus the logged extras; ``?format=csv`` gives all rows as CSV.
    The job's owner or an admin (rows name the participants)."""
    study, job = _visible_study(session, study_id, user)
    _require_owner(user, study, job, f"the responses of study {study_id}")
    rows = studies.response_rows(session, study_id)
    if format == "csv":
        return Response(
            studies.responses_csv(rows),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="study-{study_id}-responses.csv"'},
        )
    return page.slice(rows)
