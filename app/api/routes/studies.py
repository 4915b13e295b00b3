"""Human studies: create from a finished job, observer sessions, trials, answers, scale, raw CSV."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import Response

from app.api.deps import Pagination, SessionDep, StorageDep
from app.api.schemas_studies import (ResponseRequest, ResponseRow, ResponseStored, ScaleOut, SessionCreated,
                                     SessionRequest, StudyOut, StudyProgress, StudyRequest, TrialOut)
from app.services import studies

router = APIRouter(prefix="/api/v1", tags=["studies"])


class StudyDetail(StudyOut):
    progress: StudyProgress


@router.post("/studies", status_code=status.HTTP_201_CREATED, response_model=StudyOut)
def create_study(body: StudyRequest, request: Request, session: SessionDep, storage: StorageDep) -> dict:
    """A study over a succeeded job's results (default: all) plus one hidden reference per source image.
    Unknown job 404, job not succeeded 409, results of another job or < 2 conditions per image 422;
    nothing is stored then."""
    study = studies.create_study(session, storage, studies.StudySpec(**body.model_dump()))
    session.commit()  # visible to the next request before this response is sent
    return studies.study_json(study, str(request.base_url))


@router.get("/studies", response_model=list[StudyOut])
def list_studies(request: Request, session: SessionDep, page: Pagination) -> list[dict]:
    """Studies, newest first, paged by ``limit``/``offset`` (total in ``X-Total-Count``)."""
    return [studies.study_json(s, str(request.base_url)) for s in page.slice(studies.list_studies(session))]


@router.get("/studies/{study_id}", response_model=StudyDetail)
def get_study(study_id: int, request: Request, session: SessionDep) -> dict:
    """The study, its conditions and live progress (sessions, answered trials per condition)."""
    study = studies.get_study(session, study_id)
    return {**studies.study_json(study, str(request.base_url)), "progress": studies.progress(session, study)}


@router.post("/studies/{study_id}/close", response_model=StudyOut)
def close_study(study_id: int, request: Request, session: SessionDep) -> dict:
    """Stop serving trials (``next`` answers 204, answers 409); stored answers and the scale stay."""
    study = studies.close_study(session, study_id)
    session.commit()
    return studies.study_json(study, str(request.base_url))


@router.post("/studies/{study_id}/sessions", status_code=status.HTTP_201_CREATED, response_model=SessionCreated)
def start_session(study_id: int, body: SessionRequest, session: SessionDep) -> dict:
    """A new observer session; the study's token is the credential (wrong token 403, closed study 409)."""
    sitting = studies.start_session(session, study_id, body.token, body.participant,
                                    body.display.model_dump() if body.display else None)
    session.commit()
    return {"id": sitting.id}


@router.get("/studies/{study_id}/sessions/{session_id}/next", response_model=TrialOut,
            responses={204: {"description": "session complete or study closed"}})
def next_trial(study_id: int, session_id: str, session: SessionDep):
    """The session's current trial (the same until answered, so a reload resumes), or 204 when done."""
    trial = studies.next_trial(session, study_id, session_id)
    session.commit()  # a served trial must exist before the participant can answer it
    if trial is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    sitting = studies.get_session(session, studies.get_study(session, study_id), session_id)
    return studies.trial_json(trial, studies.session_total(sitting))


@router.post("/studies/{study_id}/sessions/{session_id}/responses", status_code=status.HTTP_201_CREATED,
             response_model=ResponseStored)
def record_response(study_id: int, session_id: str, body: ResponseRequest, session: SessionDep) -> dict:
    """One answer: ``choice`` a|b (pairwise) or ``score`` 1..5 (dsis). Twice or closed 409."""
    trial = studies.record_response(session, study_id, session_id, body.trial_id, body.choice, body.score,
                                    body.response_ms)
    session.commit()  # the next `next` must see this answer, or it would serve the same trial again
    sitting = studies.get_session(session, studies.get_study(session, study_id), session_id)
    return {"trial_id": trial.id, "position": trial.position, "total": studies.session_total(sitting)}


@router.get("/studies/{study_id}/sessions/{session_id}/trials/{trial_id}/{which}.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def trial_image(study_id: int, session_id: str, trial_id: int, which: Literal["a", "b", "reference"],
                session: SessionDep, storage: StorageDep) -> Response:
    """A trial's stimulus (cropped PNG), authorised by the session id."""
    data = studies.trial_image(session, storage, study_id, session_id, trial_id, which)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/studies/{study_id}/scale", response_model=ScaleOut)
def study_scale(study_id: int, session: SessionDep) -> dict:
    """JOD per source image with the reference at 0 (pairwise) or MOS (dsis), 95% intervals, observer
    screening; cached, recomputed only when answers arrived since."""
    return studies.study_scale(session, study_id)


@router.get("/studies/{study_id}/responses", response_model=list[ResponseRow],
            responses={200: {"content": {"text/csv": {}}}})
def study_responses(study_id: int, session: SessionDep, page: Pagination,
                    format: str = Query("json", pattern="^(json|csv)$")):
    """Answered trials in pwcmp's columns plus the logged extras; ``?format=csv`` gives all rows as CSV."""
    rows = studies.response_rows(session, study_id)
    if format == "csv":
        return Response(studies.responses_csv(rows), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="study-{study_id}-responses.csv"'})
    return page.slice(rows)
