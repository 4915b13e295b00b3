"""Study pages: the owner's page (progress, close, scale plot, CSV) and the participant's page (no login;
the link's token is checked here and again by ``POST .../sessions``)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.deps import OptionalUser, SessionDep
from app.api.routes.pages import templates
from app.db.tables import Image
from app.services.accounts import auth
from app.services.studies import studies

router = APIRouter(include_in_schema=False)


@router.get("/studies/{study_id}", response_class=HTMLResponse)
def study_page(study_id: int, request: Request, session: SessionDep, user: OptionalUser):
    """Visible where the study's job is; the participant link and the close button only for its owner."""
    study = studies.get_study(session, study_id)
    studies.require_view(session, user, study)
    owner = auth.is_admin(user) or (user is not None and studies.study_owner_id(session, study) == user.id)
    image_ids = sorted({c.image_id for c in study.conditions if c.image_id is not None})
    names = {im.id: im.filename for im in (session.get(Image, i) for i in image_ids) if im is not None}
    return templates.TemplateResponse(
        request,
        "study_owner.html",
        {
            "study": study,
            "owner": owner,
            "method": studies.method_of(study),
            "participant_url": (
                str(request.base_url).rstrip("/") + studies.participant_path(study)
                if owner and not study.imported
                else None
            ),
            "image_names": {str(i): names.get(i, f"image {i}") for i in image_ids},
        },
    )


@router.get("/studies/{study_id}/take", response_class=HTMLResponse)
def participant_page(study_id: int, request: Request, session: SessionDep, token: str = ""):
    study = studies.get_study(session, study_id)
    if study.imported or not token or not secrets.compare_digest(token.encode(), study.token.encode()):
        return templates.TemplateResponse(
            request,
            "study_message.html",
            {"title": "Link not valid", "message": "This study link is not valid. Ask the study's owner for the link."},
            status_code=403,
        )
    method = studies.method_of(study)  # each method names its participant page and script
    return templates.TemplateResponse(request, method.page_template, {"study": study, "token": token, "method": method})
