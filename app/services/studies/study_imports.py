"""Import a published study's answers (issue 29): pwcmp pairwise CSVs or JPEG AIC-3 triplet CSVs.

An imported study is read-only (no sessions, 409 on writes), has an owner and a visibility like an image
set, no job and no images: its conditions carry the file's ``label`` and ``group`` (scene / source), and
``codec``/``rate_point`` where the label names them. Its answers go to ``study_answers``; its scale is
computed by a worker (``studies.request_scale``). Every file is parsed and checked before anything is
stored, so bad input stores nothing; errors name the file, row and column.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.orm import Session

from analysis.subjective.aic3_csv import Aic3FormatError, aic3_codec, aic3_reference, read_aic3_answers
from analysis.subjective.pwcmp_csv import PwcmpFormatError, read_pwcmp_answers
from app.db.tables import Study, StudyAnswer, StudyCondition
from app.services.errors import Invalid
from app.services.studies.studies import _now

FORMATS = ("pwcmp", "aic3")
VISIBILITIES = ("private", "public")


@dataclass(frozen=True)
class ImportSpec:
    """A validated ``POST /api/v1/studies/import`` request; ``files`` are (name, bytes) pairs."""

    name: str
    format: str
    files: list[tuple[str, bytes]]
    reference: str | None = None
    visibility: str = "private"
    owner_id: int | None = None


@dataclass(frozen=True)
class _Row:
    observer: str
    group: str
    a: str
    b: str
    choice: str
    control: str
    boosted: bool = False
    pivot: str | None = None
    batch: str = ""


def _pwcmp(spec: ImportSpec) -> tuple[list[_Row], dict[str, str], set[tuple[str, str]]]:
    parsed = read_pwcmp_answers(spec.files)
    labels: set[tuple[str, str]] = set()
    for c in parsed.comparisons:
        labels.update({(c.scene, c.a), (c.scene, c.b)})
    groups = sorted({g for g, _ in labels})
    if spec.reference:
        missing = [g for g in groups if (g, spec.reference) not in labels]
        if missing:
            raise Invalid(f"group {missing[0]!r} has no condition labelled {spec.reference!r} (field 'reference')")
        references = {g: spec.reference for g in groups}
    else:  # a licbench export names its reference; otherwise each group's mean is 0 (pw_scale's mean0)
        references = dict(parsed.references) if parsed.licbench_export else {}
    rows = [_Row(c.observer, c.scene, c.a, c.b, "a" if c.a_selected else "b", c.control) for c in parsed.comparisons]
    return rows, references, labels


def _aic3(spec: ImportSpec) -> tuple[list[_Row], dict[str, str], set[tuple[str, str]]]:
    if spec.reference:
        raise Invalid("field 'reference' applies to pwcmp; the aic3 layout fixes it (codec 0 at level 0)")
    answers = read_aic3_answers(spec.files)
    labels: set[tuple[str, str]] = set()
    for t in answers:
        labels.update({(t.group, t.pivot), (t.group, t.left), (t.group, t.right)})
    references = {g: aic3_reference(g) for g, _ in labels}
    labels.update((g, label) for g, label in references.items())
    rows = [
        _Row(
            t.observer,
            t.group,
            t.left,
            t.right,
            t.choice,
            "trap" if t.trap else "bias" if t.bias else "regular",
            t.boosted,
            t.pivot,
            t.batch,
        )
        for t in answers
    ]
    return rows, references, labels


def _codec_and_rate(fmt: str, label: str, reference: bool) -> tuple[str | None, float | None]:
    if fmt == "aic3":
        return aic3_codec(label) or None, None
    if reference and label == "reference":
        return "reference", None
    codec, sep, rate = label.partition(" @ ")
    if not sep:
        return None, None
    try:
        return codec, float(rate)
    except ValueError:
        return None, None


def import_study(session: Session, spec: ImportSpec) -> tuple[Study, dict]:
    """Parse and check every file, then store the study, its conditions and answers (flushed, not
    committed). Returns the study and the 201 body. Bad input raises ``Invalid`` (422) and stores nothing."""
    if spec.format not in FORMATS:
        raise Invalid(f"field 'format': {spec.format!r} is not a known format; one of {', '.join(FORMATS)}")
    if spec.visibility not in VISIBILITIES:
        raise Invalid(f"field 'visibility' must be one of {', '.join(VISIBILITIES)}")
    if not spec.files:
        raise Invalid("field 'files': at least one file is needed")
    try:
        rows, references, labels = (_pwcmp if spec.format == "pwcmp" else _aic3)(spec)
    except (PwcmpFormatError, Aic3FormatError) as exc:
        raise Invalid(str(exc)) from None
    method = "pairwise" if spec.format == "pwcmp" else "triplet"
    now = _now()
    study = Study(
        name=spec.name,
        method=method,
        sampling="none",
        job_id=None,
        imported=True,
        owner_id=spec.owner_id,
        visibility=spec.visibility,
        crop=None,
        trials_per_session=0,
        min_viewing_ms=0,
        token=secrets.token_urlsafe(32),
        status="closed",
        closed_at=now,
        answers_version=len(rows),
        scale_version=-1,
    )
    session.add(study)
    session.flush()
    ids: dict[tuple[str, str], int] = {}
    for group, label in sorted(labels, key=lambda gl: (_order(gl[0]), gl[1])):
        reference = references.get(group) == label
        codec, rate_point = _codec_and_rate(spec.format, label, reference)
        condition = StudyCondition(
            study_id=study.id, label=label, group_name=group, is_reference=reference, codec=codec, rate_point=rate_point
        )
        session.add(condition)
        session.flush()
        ids[(group, label)] = condition.id
    session.execute(
        insert(StudyAnswer),
        [
            {
                "study_id": study.id,
                "observer": r.observer[:200],
                "condition_a_id": ids[(r.group, r.a)],
                "condition_b_id": ids[(r.group, r.b)],
                "choice": r.choice,
                "control": r.control,
                "boosted": r.boosted,
                "pivot_id": None if r.pivot is None else ids[(r.group, r.pivot)],
                "batch": r.batch or None,
            }
            for r in rows
        ],
    )
    session.flush()
    session.refresh(study)
    body = {
        "id": study.id,
        "name": study.name,
        "method": method,
        "imported": True,
        "answers": len(rows),
        "observers": len({r.observer for r in rows}),
        "conditions": [
            {"id": c.id, "label": c.label, "group": c.group_name, "reference": bool(c.is_reference)}
            for c in study.conditions
        ],
    }
    return study, body


def _order(group: str) -> tuple:
    return (0, int(group), "") if group.isdigit() else (1, 0, group)
