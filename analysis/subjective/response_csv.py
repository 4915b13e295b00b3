"""What the readers of published response CSVs share (AIC-3 triplets, pwcmp comparisons): an error that names
the file, row and column; decoding the bytes as UTF-8 text; and the header and row-length checks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence


class ResponseFormatError(ValueError):
    """Bad response-file input, naming the file, the row (1 = the header line) and the column where known."""

    def __init__(self, file: str, message: str, *, row: int | None = None, column: str | None = None):
        self.file, self.row, self.column, self.detail = file, row, column, message
        where = f"file {file}"
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")


def decode_text(name: str, content: bytes, error: type[ResponseFormatError]) -> str:
    """``content`` as text (UTF-8, BOM dropped); ``error`` for a binary or non-UTF-8 file."""
    if b"\x00" in content[:65536]:
        raise error(name, "is a binary file, not a CSV text file")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(name, f"is not UTF-8 text (byte {exc.start})") from None


def csv_records(
    name: str, text: str, required: Sequence[str], error: type[ResponseFormatError]
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The stripped header and the (row number, record) of every data row, the header counting as row 1.
    ``error`` for an empty file, a missing ``required`` column, or a row with fewer or more cells than the header."""
    if not text.strip():
        raise error(name, "is empty")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    for column in required:
        if column not in header:
            raise error(name, "is missing (required column)", row=1, column=column)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for row, record in enumerate(reader, start=2):
            if None in record or any(record[c] is None for c in required):
                raise error(name, f"has {len(header)} columns in the header but not in this row", row=row)
            yield row, record

    return header, rows()
