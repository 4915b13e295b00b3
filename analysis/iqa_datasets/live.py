"""LIVE Image Quality Assessment Database Release 2 (Sheikh, Sabir, Bovik 2006), as it ships.

``refimgs/*.bmp`` (29 references); one folder per distortion, in this order: ``jp2k``, ``jpeg``,
``wn``, ``gblur``, ``fastfading``, each with ``img1.bmp`` .. ``imgK.bmp``; ``dmos.mat`` (arrays
``dmos`` and ``orgs``, one entry per distorted image in that folder order, 1 in ``orgs`` marks a
copy of the reference, left out as usual) and ``refnames_all.mat`` (``refnames_all``: the reference
file of each entry). DMOS, lower = better. The release has 227, 233, 174, 174, 174 images per folder;
the counts are read from the folders, and must add up to the length of ``dmos``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from analysis.iqa_datasets.base import DatasetError, DatasetIndex, DistortedImage, FileTable

FOLDERS = ("jp2k", "jpeg", "wn", "gblur", "fastfading")
SCORE_FILE = "dmos.mat"
NAMES_FILE = "refnames_all.mat"
_IMG = re.compile(r"^img(\d+)\.bmp$", re.IGNORECASE)


def _load_mat(path: Path, key: str) -> np.ndarray:
    from scipy.io import loadmat

    try:
        data = loadmat(path)
    except (ValueError, OSError, TypeError, NotImplementedError) as exc:
        raise DatasetError(f"{path.name} is not a readable MATLAB file: {exc}") from None
    if key not in data:
        raise DatasetError(f"{path.name} lacks the array {key!r}")
    return np.asarray(data[key]).ravel()


def _cell_string(value) -> str:
    while isinstance(value, np.ndarray):
        if value.size != 1:
            return "".join(str(v) for v in value.ravel())
        value = value.ravel()[0]
    return str(value).strip()


class LiveLayout:
    name = "live"
    description = "LIVE Release 2: refimgs/, jp2k/ jpeg/ wn/ gblur/ fastfading/, dmos.mat, refnames_all.mat (DMOS, lower is better)"
    markers = ("refimgs", SCORE_FILE, NAMES_FILE)

    def read(self, root: Path) -> DatasetIndex:
        """Parse ``dmos.mat`` and ``refnames_all.mat`` and check every image they imply exists."""
        files = FileTable(root)
        dmos = _load_mat(root / files.require(SCORE_FILE, "the live layout"), "dmos")
        orgs = _load_mat(root / files.require(SCORE_FILE, "the live layout"), "orgs")
        refnames = _load_mat(root / files.require(NAMES_FILE, "the live layout"), "refnames_all")
        if not (len(dmos) == len(orgs) == len(refnames)):
            raise DatasetError(
                f"dmos ({len(dmos)}), orgs ({len(orgs)}) and refnames_all ({len(refnames)}) differ in length"
            )
        try:
            dmos = dmos.astype(np.float64)
        except (TypeError, ValueError):
            raise DatasetError("dmos.mat: dmos is not numeric") from None
        if not np.all(np.isfinite(dmos)):
            raise DatasetError("dmos.mat: dmos has non-finite values")
        entries: list[tuple[str, str]] = []  # (folder, file) in dmos order
        for folder in FOLDERS:
            numbered = sorted(
                (int(m.group(1)), p) for p in files.under(folder) if (m := _IMG.match(p.rsplit("/", 1)[-1]))
            )
            if not numbered:
                raise DatasetError(f"the live layout needs the folder {folder}/ with img1.bmp ...")
            if [n for n, _ in numbered] != list(range(1, len(numbered) + 1)):
                raise DatasetError(f"{folder}/ images are not numbered img1.bmp .. img{len(numbered)}.bmp without gaps")
            entries.extend((folder, p) for _, p in numbered)
        if len(entries) != len(dmos):
            raise DatasetError(f"dmos.mat has {len(dmos)} scores but the folders hold {len(entries)} images")
        distorted: list[DistortedImage] = []
        references: dict[str, None] = {}  # insertion-ordered set
        for (folder, path), score, org, refname in zip(entries, dmos, orgs, refnames):
            if int(org) == 1:
                continue
            name = _cell_string(refname)
            reference = files.find(f"refimgs/{name}")
            if reference is None:
                raise DatasetError(f"reference image {name} (for {path}) is missing from refimgs/")
            references[reference] = None
            distorted.append(DistortedImage(path, reference, float(score), folder, None))
        return DatasetIndex(self.name, root, list(references), distorted, False, "DMOS")
