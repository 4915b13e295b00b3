"""TID2013 (Ponomarenko et al., Signal Processing: Image Communication 2015), as it ships.

``reference_images/I01.BMP`` .. ``I25.BMP``, ``distorted_images/i01_01_1.bmp`` (image, distortion
type 01-24, level 1-5) and ``mos_with_names.txt``: one ``<MOS> <file name>`` per line, MOS 0-9,
higher = better. File names are matched case-insensitively (the archive mixes cases).
"""

from __future__ import annotations

import re
from pathlib import Path

from analysis.iqa_datasets.base import DatasetError, DatasetIndex, DistortedImage, FileTable, parse_score

SCORE_FILE = "mos_with_names.txt"
_NAME = re.compile(r"^i(\d\d)_(\d\d)_(\d)\.bmp$", re.IGNORECASE)
DISTORTIONS = {
    1: "additive gaussian noise",
    2: "additive noise in colour components",
    3: "spatially correlated noise",
    4: "masked noise",
    5: "high frequency noise",
    6: "impulse noise",
    7: "quantisation noise",
    8: "gaussian blur",
    9: "image denoising",
    10: "jpeg compression",
    11: "jpeg2000 compression",
    12: "jpeg transmission errors",
    13: "jpeg2000 transmission errors",
    14: "non eccentricity pattern noise",
    15: "local block-wise distortions",
    16: "mean shift",
    17: "contrast change",
    18: "change of colour saturation",
    19: "multiplicative gaussian noise",
    20: "comfort noise",
    21: "lossy compression of noisy images",
    22: "colour quantisation with dither",
    23: "chromatic aberrations",
    24: "sparse sampling and reconstruction",
}


class Tid2013Layout:
    name = "tid2013"
    description = "TID2013: reference_images/, distorted_images/, mos_with_names.txt (MOS, higher is better)"
    markers = ("reference_images", "distorted_images", SCORE_FILE)

    def read(self, root: Path) -> DatasetIndex:
        """Parse ``mos_with_names.txt`` and check every named distorted image and its reference exist."""
        files = FileTable(root)
        score_path = root / files.require(SCORE_FILE, "the tid2013 layout")
        distorted: list[DistortedImage] = []
        references: dict[str, None] = {}  # insertion-ordered set
        for number, line in enumerate(score_path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split()
            where = f"{SCORE_FILE} line {number}"
            if len(parts) != 2:
                raise DatasetError(f"{where}: expected '<MOS> <file name>', got {line.strip()!r}")
            score, name = parse_score(parts[0], where), parts[1]
            match = _NAME.match(name)
            if not match:
                raise DatasetError(f"{where}: {name!r} is not a TID2013 name like i01_01_1.bmp")
            image, kind, level = match.group(1), int(match.group(2)), int(match.group(3))
            path = files.require(f"distorted_images/{name}", SCORE_FILE)
            reference = files.find(f"reference_images/i{image}.bmp")
            if reference is None:
                raise DatasetError(f"reference image I{image}.BMP for {name} is missing from reference_images/")
            references[reference] = None
            distorted.append(DistortedImage(path, reference, score, DISTORTIONS.get(kind, f"type {kind:02d}"), level))
        if not distorted:
            raise DatasetError(f"{SCORE_FILE} names no images")
        return DatasetIndex(self.name, root, list(references), distorted, True, "MOS")
