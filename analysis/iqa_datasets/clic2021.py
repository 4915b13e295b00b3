"""CLIC 2021 perceptual track (fab-jul/clic2021-devkit): ``oracle.csv`` triplets with their images.

Each row is ``O,A,B,T``: the original and two reconstructions (paths relative to the data set root)
and T = 0 when people found A closer to O, 1 when B. A path not found as written is looked up
with its leading folders dropped, then by its file name if that is unique in the archive. No scale: scored as 2AFC agreement
(``analysis.correlation.two_afc_agreement``). A header row, if present, is skipped.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from analysis.iqa_datasets.base import DatasetError, DatasetIndex, FileTable, Triplet

SCORE_FILE = "oracle.csv"


class Clic2021PerceptualLayout:
    name = "clic2021-perceptual"
    description = "CLIC 2021 perceptual: oracle.csv rows O,A,B,T (T=0: A closer to O) with the images they name"
    markers = (SCORE_FILE,)

    def read(self, root: Path) -> DatasetIndex:
        """Parse ``oracle.csv`` and check every named image exists."""
        files = FileTable(root)
        text = (root / files.require(SCORE_FILE, "the clic2021-perceptual layout")).read_text(encoding="utf-8-sig")
        triplets: list[Triplet] = []
        originals: dict[str, None] = {}  # insertion-ordered set
        for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
            if not row or all(not c.strip() for c in row):
                continue
            where = f"{SCORE_FILE} line {number}"
            if len(row) != 4:
                raise DatasetError(f"{where}: expected 4 columns O,A,B,T, got {len(row)}")
            o, a, b, t = (c.strip() for c in row)
            if number == 1 and t not in ("0", "1"):
                continue  # header
            if t not in ("0", "1"):
                raise DatasetError(f"{where}: T must be 0 or 1, got {t!r}")
            o, a, b = (files.require(p, SCORE_FILE, loose=True) for p in (o, a, b))
            originals[o] = None
            triplets.append(Triplet(o, a, b, prefers_a=(t == "0")))
        if not triplets:
            raise DatasetError(f"{SCORE_FILE} has no triplets")
        return DatasetIndex(self.name, root, list(originals), [], True, "2AFC", triplets)
