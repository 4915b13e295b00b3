"""KADID-10k (Lin, Hosu, Saupe, QoMEX 2019), as it ships.

``images/I01.png`` (references) and ``images/I01_01_01.png`` (image, distortion type 01-25, level
1-5) with ``dmos.csv`` columns ``dist_img, ref_img, dmos, var``. Despite its name the score is a
mean of 1-5 ratings of the distorted image against its reference: higher = better.
"""

from __future__ import annotations

import re
from pathlib import Path

from analysis.iqa_datasets.base import (
    DatasetError,
    DatasetIndex,
    DistortedImage,
    FileTable,
    parse_score,
    read_csv_rows,
)

SCORE_FILE = "dmos.csv"
_NAME = re.compile(r"^i(\d+)_(\d\d)_(\d\d)\.png$", re.IGNORECASE)
DISTORTIONS = {
    1: "gaussian blur",
    2: "lens blur",
    3: "motion blur",
    4: "colour diffusion",
    5: "colour shift",
    6: "colour quantisation",
    7: "colour saturation 1",
    8: "colour saturation 2",
    9: "jpeg2000",
    10: "jpeg",
    11: "white noise",
    12: "white noise in colour component",
    13: "impulse noise",
    14: "multiplicative noise",
    15: "denoise",
    16: "brighten",
    17: "darken",
    18: "mean shift",
    19: "jitter",
    20: "non-eccentricity patch",
    21: "pixelate",
    22: "quantisation",
    23: "colour block",
    24: "high sharpen",
    25: "contrast change",
}


class Kadid10kLayout:
    name = "kadid10k"
    description = "KADID-10k: images/ (I01.png, I01_01_01.png), dmos.csv (dist_img, ref_img, dmos; higher is better)"
    markers = ("images", SCORE_FILE)

    def read(self, root: Path) -> DatasetIndex:
        """Parse ``dmos.csv`` and check every named distorted and reference image exists under images/."""
        files = FileTable(root)
        rows = read_csv_rows(root / files.require(SCORE_FILE, "the kadid10k layout"), ("dist_img", "ref_img", "dmos"))
        distorted: list[DistortedImage] = []
        references: dict[str, None] = {}  # insertion-ordered set
        for number, row in enumerate(rows, 2):
            where = f"{SCORE_FILE} line {number}"
            score = parse_score(row["dmos"], where)
            name, ref_name = row["dist_img"], row["ref_img"]
            path = files.require(f"images/{name}", SCORE_FILE)
            reference = files.find(f"images/{ref_name}")
            if reference is None:
                raise DatasetError(f"reference image {ref_name} (for {name}) is missing from images/")
            references[reference] = None
            match = _NAME.match(name)
            kind = int(match.group(2)) if match else None
            level = int(match.group(3)) if match else None
            distortion = DISTORTIONS.get(kind, f"type {kind:02d}") if kind is not None else None
            distorted.append(DistortedImage(path, reference, score, distortion, level))
        return DatasetIndex(self.name, root, list(references), distorted, True, "DMOS")
