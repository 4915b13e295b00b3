"""CSIQ (Larson and Chandler, Journal of Electronic Imaging 2010), as it ships.

``src_imgs/<name>.png`` (30 references), ``dst_imgs/<type>/<name>.<TYPE>.<level>.png`` (types awgn,
jpeg, jpeg2000, fnoise, blur, contrast) and ``csiq.DMOS.xlsx``, whose sheet of all scores has the
columns ``image, dst_type, dst_lev, dmos`` (DMOS 0-1, lower = better). The spreadsheet names the
types in words ("noise", "jpeg 2000", "f noise"); they map onto the folder names below.
"""

from __future__ import annotations

from pathlib import Path

from analysis.iqa_datasets.base import DatasetError, DatasetIndex, DistortedImage, FileTable, parse_score

SCORE_FILE = "csiq.DMOS.xlsx"
REQUIRED = ("image", "dst_type", "dst_lev", "dmos")
TYPE_FOLDERS = {
    "noise": "awgn",
    "awgn": "awgn",
    "jpeg": "jpeg",
    "jpeg 2000": "jpeg2000",
    "jpeg2000": "jpeg2000",
    "f noise": "fnoise",
    "fnoise": "fnoise",
    "blur": "blur",
    "contrast": "contrast",
}


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _score_rows(path: Path) -> list[tuple[int, dict[str, object]]]:
    """(spreadsheet row number, {column: value}) from the first sheet whose header has ``REQUIRED``."""
    try:
        from zipfile import BadZipFile

        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException
    except ImportError:  # pragma: no cover - openpyxl is a declared dependency
        raise DatasetError("reading csiq.DMOS.xlsx needs openpyxl") from None
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        raise DatasetError(f"{SCORE_FILE} is not a readable xlsx workbook: {exc}") from None
    try:
        for sheet in workbook.worksheets:
            rows = list(sheet.iter_rows(values_only=True))
            for header_index, header in enumerate(rows[:10]):
                names = [_cell_text(c).lower() for c in header]
                if all(column in names for column in REQUIRED):
                    columns = {c: names.index(c) for c in REQUIRED}
                    out = []
                    for offset, row in enumerate(rows[header_index + 1 :], header_index + 2):
                        if all(c is None or _cell_text(c) == "" for c in row):
                            continue
                        out.append((offset, {c: (row[i] if i < len(row) else None) for c, i in columns.items()}))
                    return out
    finally:
        workbook.close()
    raise DatasetError(f"{SCORE_FILE} has no sheet with the columns {', '.join(REQUIRED)}")


class CsiqLayout:
    name = "csiq"
    description = "CSIQ: src_imgs/, dst_imgs/<type>/, csiq.DMOS.xlsx (DMOS, lower is better)"
    markers = ("src_imgs", "dst_imgs", SCORE_FILE)

    def read(self, root: Path) -> DatasetIndex:
        """Parse ``csiq.DMOS.xlsx`` and check every distorted image and its reference exist."""
        files = FileTable(root)
        rows = _score_rows(root / files.require(SCORE_FILE, "the csiq layout"))
        distorted: list[DistortedImage] = []
        references: dict[str, None] = {}  # insertion-ordered set
        for number, row in rows:
            where = f"{SCORE_FILE} row {number}"
            image, kind = _cell_text(row["image"]), _cell_text(row["dst_type"]).lower()
            folder = TYPE_FOLDERS.get(kind)
            if folder is None:
                raise DatasetError(
                    f"{where}: unknown distortion type {kind!r} (expected one of "
                    f"{', '.join(sorted(set(TYPE_FOLDERS)))})"
                )
            level_text = _cell_text(row["dst_lev"])
            if not level_text.isdigit():
                raise DatasetError(f"{where}: level {level_text!r} is not a whole number")
            score = parse_score(_cell_text(row["dmos"]), where)
            path = files.require(f"dst_imgs/{folder}/{image}.{folder}.{level_text}.png", SCORE_FILE)
            reference = files.find(f"src_imgs/{image}.png")
            if reference is None:
                raise DatasetError(f"reference image {image}.png is missing from src_imgs/")
            references[reference] = None
            distorted.append(DistortedImage(path, reference, score, folder, int(level_text)))
        if not distorted:
            raise DatasetError(f"{SCORE_FILE} names no images")
        return DatasetIndex(self.name, root, list(references), distorted, False, "DMOS")
