"""Reference RD curves (CompressAI results JSON) shown beside a job's curves."""
from __future__ import annotations

from fastapi import APIRouter, File, Form, UploadFile, status
from app.api.deps import Pagination, SessionDep
from app.services import reference_curves
from app.services.errors import TooLarge

router = APIRouter(prefix="/api/v1/reference-curves", tags=["analysis"])
MAX_JSON_BYTES = 5 * 1024 * 1024


@router.get("")
def list_curves(session: SessionDep, page: Pagination) -> list[dict]:
    """CompressAI's published Kodak results for the zoo models (shipped, citing the source file), then
    imported curves."""
    return page.slice(reference_curves.list_curves(session))


@router.post("", status_code=status.HTTP_201_CREATED)
async def import_curve(session: SessionDep, file: UploadFile = File(...), label: str = Form("published")) -> dict:
    """Import a CompressAI results JSON file (``{"name", "description", "results": {"bpp": [...], ...}}``)."""
    data = await file.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise TooLarge(f"results file is larger than {MAX_JSON_BYTES} bytes")
    row = reference_curves.import_curve(session, file.filename or "results.json", data, label)
    return {"id": row.id, "name": row.name, "label": row.label}


@router.delete("/{curve_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_curve(curve_id: int, session: SessionDep) -> None:
    reference_curves.delete_curve(session, curve_id)
