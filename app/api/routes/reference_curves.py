"""Reference RD curves (CompressAI results JSON) shown beside a job's curves."""
from __future__ import annotations

from fastapi import APIRouter, File, Form, UploadFile, status
from app.api.deps import Pagination, SessionDep
from app.api.schemas import ReferenceCurveCreated, ReferenceCurveOut
from app.db.tables import ReferenceCurve
from app.services import reference_curves
from app.services.errors import TooLarge

router = APIRouter(prefix="/api/v1/reference-curves", tags=["analysis"])
MAX_JSON_BYTES = 5 * 1024 * 1024


@router.get("", response_model=list[ReferenceCurveOut])
def list_curves(session: SessionDep, page: Pagination) -> list[ReferenceCurveOut]:
    """CompressAI's published Kodak results for the zoo models (shipped, citing the source file), then
    imported curves."""
    curves = [ReferenceCurveOut.published(c) for c in reference_curves.published_curves()]
    curves += [ReferenceCurveOut.imported(row) for row in reference_curves.imported_curves(session)]
    return page.slice(curves)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReferenceCurveCreated)
async def import_curve(session: SessionDep, file: UploadFile = File(...), label: str = Form("published")) -> ReferenceCurve:
    """Import a CompressAI results JSON file (``{"name", "description", "results": {"bpp": [...], ...}}``)."""
    data = await file.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise TooLarge(f"results file is larger than {MAX_JSON_BYTES} bytes")
    return reference_curves.import_curve(session, file.filename or "results.json", data, label)


@router.delete("/{curve_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_curve(curve_id: int, session: SessionDep) -> None:
    reference_curves.delete_curve(session, curve_id)
