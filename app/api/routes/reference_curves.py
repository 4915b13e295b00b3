"""Reference RD curves (CompressAI results JSON) shown beside a job's curves."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, UploadFile, status

from app.api.deps import CurrentUser, Pagination, SessionDep
from app.api.rate_limits import UploadingUser
from app.api.schemas import ReferenceCurveCreated, ReferenceCurveOut
from app.db.tables import ReferenceCurve
from app.services.accounts import auth
from app.services.errors import NotFound, TooLarge
from app.services.jobs import reference_curves

router = APIRouter(prefix="/api/v1/reference-curves", tags=["analysis"])
MAX_JSON_BYTES = 5 * 1024 * 1024


@router.get("", response_model=list[ReferenceCurveOut])
def list_curves(session: SessionDep, page: Pagination) -> list[ReferenceCurveOut]:
    """CompressAI's published Kodak results for the zoo models and the Kodak anchors (JPEG, WebP, BPG 4:4:4, AV1,
    VTM, the VBR models; shipped, citing the source file, labelled as Kodak figures), then imported curves."""
    curves = [ReferenceCurveOut.published(c) for c in reference_curves.published_curves()]
    curves += [ReferenceCurveOut.imported(row) for row in reference_curves.imported_curves(session)]
    return page.slice(curves)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReferenceCurveCreated)
def import_curve(
    session: SessionDep, user: UploadingUser, file: UploadFile = File(...), label: str = Form("published")
) -> ReferenceCurve:
    """Import a CompressAI results JSON file (``{"name", "description", "results": {"bpp": [...], ...}}``);
    needs a user, who owns the curve. A sync route (thread pool); the 201 is sent after the commit."""
    data = file.file.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise TooLarge(f"results file is larger than {MAX_JSON_BYTES} bytes")
    curve = reference_curves.import_curve(session, file.filename or "results.json", data, label)
    curve.owner_id = user.id
    session.commit()
    return curve


@router.delete("/{curve_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_curve(curve_id: int, session: SessionDep, user: CurrentUser) -> None:
    """Delete an imported curve: who imported it or an admin."""
    row = session.get(ReferenceCurve, curve_id)
    if row is None:
        raise NotFound(f"reference curve {curve_id} does not exist")
    auth.require_owner(user, row.owner_id, f"reference curve {curve_id}")
    reference_curves.delete_curve(session, curve_id)
