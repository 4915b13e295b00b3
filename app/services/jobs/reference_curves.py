"""Reference RD curves: CompressAI's published Kodak figures (shipped) and imported results files."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.compressai_json import ReferenceCurve as PublishedCurve
from analysis.compressai_json import (
    ResultsFormatError,
    from_compressai_json,
    published_kodak_anchors,
    published_reference_curves,
)
from app.db.tables import ReferenceCurve
from app.services.errors import Invalid, NotFound


def import_curve(session: Session, filename: str, data: bytes, label: str = "published") -> ReferenceCurve:
    """Store a CompressAI results JSON as a reference curve; rejects malformed files (nothing stored)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid(f"{filename}: not a JSON file ({exc})") from None
    try:
        curve = from_compressai_json(document, where=filename, label=label)
    except ResultsFormatError as exc:
        raise Invalid(str(exc)) from None
    row = ReferenceCurve(
        name=curve.name, label=label, description=curve.description, results={"bpp": curve.bpp, **curve.metrics}
    )
    session.add(row)
    session.flush()
    return row


def published_curves() -> list[PublishedCurve]:
    """CompressAI's published Kodak curves shipped with licbench (metrics keyed by licbench names): the zoo models,
    then the anchors of ``benchmarks/kodak.py`` (JPEG, WebP, BPG 4:4:4, AV1, VTM, the VBR models)."""
    return [*published_reference_curves().values(), *published_kodak_anchors().values()]


def imported_curves(session: Session) -> list[ReferenceCurve]:
    """Imported curves in the order they were imported (``results`` holds ``bpp`` and licbench metric names)."""
    return list(session.scalars(select(ReferenceCurve).order_by(ReferenceCurve.id)))


def delete_curve(session: Session, curve_id: int) -> None:
    row = session.get(ReferenceCurve, curve_id)
    if row is None:
        raise NotFound(f"reference curve {curve_id} does not exist")
    session.delete(row)
