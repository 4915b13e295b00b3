"""Pairwise answers from CSV in pwcmp's column layout (``observer, scene, condition_A, condition_B,
is_A_selected``; 1 = A was chosen), the layout ``GET /api/v1/studies/{id}/responses?format=csv`` exports.

Extra columns are ignored. A condition is a (``scene``, label) pair; ``scene`` is its group. A licbench
export (``codec_A``/``codec_B`` columns) is recognised: labels become ``<codec> @ <rate_point>`` (or
``reference``), rows with ``control=identical`` are dropped and ``control`` travels with each answer so trap
rows screen observers as they do natively. Errors name the file, row (1 = the header) and column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from analysis.subjective.response_csv import ResponseFormatError, csv_records, decode_text

REQUIRED_COLUMNS = ("observer", "scene", "condition_A", "condition_B", "is_A_selected")
EXPORT_COLUMNS = ("codec_A", "codec_B")
REFERENCE = "reference"


class PwcmpFormatError(ResponseFormatError):
    """Bad pwcmp input, naming the file, the row (1 = the header line) and the column where known."""


@dataclass(frozen=True)
class LabelledComparison:
    """One answer: ``observer`` chose ``a`` (``a_selected``) or ``b`` of group ``scene``; labels, not ids."""

    observer: str
    scene: str
    a: str
    b: str
    a_selected: bool
    control: str = "regular"


@dataclass
class PwcmpAnswers:
    comparisons: list[LabelledComparison]
    references: dict[str, str] = field(default_factory=dict)  # scene -> reference label (licbench exports)
    licbench_export: bool = False


def _label(record: dict[str, str], side: str, export: bool) -> str:
    if not export:
        return record[f"condition_{side}"].strip()
    codec = (record.get(f"codec_{side}") or "").strip()
    rate = (record.get(f"rate_point_{side}") or "").strip()
    if codec == REFERENCE or not rate:
        return codec or record[f"condition_{side}"].strip()
    try:
        return f"{codec} @ {float(rate):g}"
    except ValueError:
        return f"{codec} @ {rate}"


def read_pwcmp_answers(files: Sequence[tuple[str, bytes]]) -> PwcmpAnswers:
    """Every comparison of the given CSVs (``(name, bytes)`` pairs); ``PwcmpFormatError`` on the first bad
    value: an empty or binary file, a missing column, an empty cell, ``is_A_selected`` other than 0/1, or a
    condition compared with itself outside an ``identical`` control row."""
    if not files:
        raise ValueError("no pwcmp response files given")
    out = PwcmpAnswers([])
    for name, content in files:
        text = decode_text(name, content, PwcmpFormatError)
        header, records = csv_records(name, text, REQUIRED_COLUMNS, PwcmpFormatError)
        export = all(c in header for c in EXPORT_COLUMNS)
        out.licbench_export = out.licbench_export or export
        rows = 0
        for row, record in records:
            rows += 1
            control = (record.get("control") or "regular").strip() or "regular"
            if control == "identical":  # the same stimulus twice carries no preference
                continue
            for column in REQUIRED_COLUMNS:
                if not record[column].strip():
                    raise PwcmpFormatError(name, "is empty", row=row, column=column)
            selected = record["is_A_selected"].strip()
            try:
                value = float(selected)
            except ValueError:
                value = math.nan
            if value not in (0.0, 1.0):
                raise PwcmpFormatError(
                    name, f"{selected!r} is out of range (0 or 1; 1 = A was chosen)", row=row, column="is_A_selected"
                )
            scene = record["scene"].strip()
            a, b = _label(record, "A", export), _label(record, "B", export)
            if a == b:
                raise PwcmpFormatError(name, f"condition {a!r} is compared with itself", row=row, column="condition_B")
            if export:
                for side, label in (("A", a), ("B", b)):
                    if (record.get(f"codec_{side}") or "").strip() == REFERENCE:
                        out.references[scene] = label
            out.comparisons.append(LabelledComparison(record["observer"].strip(), scene, a, b, value == 1.0, control))
        if rows == 0:
            raise PwcmpFormatError(name, "has a header but no answer rows", row=2)
    return out
