"""What every IQA data set layout reads into: ``DatasetIndex``, and the ``Layout`` interface."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable


class DatasetError(ValueError):
    """A data set archive or folder that cannot be read; the message names the problem and the file."""


@dataclass(frozen=True)
class DistortedImage:
    """One distorted image: paths relative to the data set root (POSIX), its human score as shipped.

    Scores-only layouts (no image files) name items instead of paths, give the score's 95% interval
    (``score_ci``, in the shipped direction) and the metric values they ship (``metric_values``, each
    oriented higher = better by the layout).
    """

    path: str
    reference: str
    score: float
    distortion: str | None = None
    level: int | None = None
    score_ci: tuple[float, float] | None = None
    metric_values: dict[str, float] | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class Triplet:
    """A pairwise judgement: which of ``a`` and ``b`` people found closer to ``original``."""

    original: str
    a: str
    b: str
    prefers_a: bool


@dataclass
class DatasetIndex:
    """Everything a layout read: references, distorted images with scores, triplets, score direction.

    ``higher_is_better`` is the direction of ``score`` as shipped (False for CSIQ's and LIVE's DMOS);
    ``unit`` is "MOS", "DMOS", "JND" or "2AFC" (triplets only). ``scores_only``: the layout ships no
    images, only scores and the values of ``metric_names`` (nothing to verify or score).
    """

    layout: str
    root: Path
    references: list[str]
    distorted: list[DistortedImage]
    higher_is_better: bool
    unit: str
    triplets: list[Triplet] = field(default_factory=list)
    scores_only: bool = False
    metric_names: list[str] = field(default_factory=list)

    @property
    def n_references(self) -> int:
        return len(self.references)

    @property
    def n_distorted(self) -> int:
        return len(self.distorted) if self.distorted else len({p for t in self.triplets for p in (t.a, t.b)})

    def human_scores(self) -> list[float]:
        """The distorted images' scores oriented so that higher = better (DMOS lower-is-better negated)."""
        sign = 1.0 if self.higher_is_better else -1.0
        return [sign * d.score for d in self.distorted]

    def image_paths(self) -> list[str]:
        """Every image the index names (references first), each once."""
        seen: dict[str, None] = dict.fromkeys(self.references)
        for d in self.distorted:
            seen.setdefault(d.path)
        for t in self.triplets:
            for p in (t.original, t.a, t.b):
                seen.setdefault(p)
        return list(seen)


@runtime_checkable
class Layout(Protocol):
    """One published data set layout: ``markers`` are the files that identify it (checked by
    ``find_layout_root``); ``read`` parses the score file and checks every named image exists.

    Optional class attributes (read by ``registry``): ``scores_only = True`` for a layout that ships
    scores and metric values but no images, and ``family_of(distortion)`` (learned | classical) for a
    layout whose distortion types are codecs."""

    name: str
    description: str

    @property
    def markers(self) -> tuple[str, ...]: ...  # read-only, so a class's own (str, str) tuple satisfies it

    def read(self, root: Path) -> DatasetIndex: ...


class FileTable:
    """Files under a root, looked up case-insensitively by relative POSIX path (data sets mix I01.BMP and i01_01_1.bmp)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, str] = {}
        for path in root.rglob("*"):
            if path.is_file():
                relative = path.relative_to(root).as_posix()
                self._files.setdefault(relative.lower(), relative)

    def find(self, relative: str) -> str | None:
        """The stored relative path for ``relative`` (case-insensitive, ``./`` allowed), or None.

        A path with ``..`` or an absolute path never matches."""
        parts = [p for p in relative.replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts or ".." in parts or relative.startswith("/"):
            return None
        return self._files.get("/".join(parts).lower())

    def find_loose(self, relative: str) -> str | None:
        """Like ``find``, then with leading folders dropped one by one (score files written with a
        data set prefix), then by a file name that occurs once in the whole archive."""
        parts = [p for p in relative.replace("\\", "/").split("/") if p not in ("", ".")]
        if ".." in parts or relative.startswith("/"):
            return None
        found = self.find(relative)
        while found is None and len(parts) > 1:
            parts = parts[1:]
            found = self.find("/".join(parts))
        if found is None and parts:
            name = parts[-1].lower()
            matches = [v for k, v in self._files.items() if k.rsplit("/", 1)[-1] == name]
            found = matches[0] if len(matches) == 1 else None
        return found

    def require(self, relative: str, named_by: str, *, loose: bool = False) -> str:
        """``find`` (or ``find_loose``) or ``DatasetError`` saying ``named_by`` names a missing file."""
        found = self.find_loose(relative) if loose else self.find(relative)
        if found is None:
            raise DatasetError(f"{named_by} names {relative}, which the archive does not contain")
        return found

    def under(self, folder: str) -> list[str]:
        """Stored relative paths directly inside ``folder`` (case-insensitive)."""
        prefix = folder.strip("/").lower() + "/"
        return sorted(v for k, v in self._files.items() if k.startswith(prefix) and "/" not in k[len(prefix) :])


def parse_score(text: str, where: str) -> float:
    """A finite float from ``text`` or ``DatasetError`` naming ``where``."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise DatasetError(f"{where}: score {text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise DatasetError(f"{where}: score {text!r} is not finite")
    return value


def read_csv_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a CSV score file with a header holding ``required`` columns, else ``DatasetError``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DatasetError(f"{path.name} is not a UTF-8 text file") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise DatasetError(f"{path.name} lacks column(s) {', '.join(missing)} (has: {', '.join(header) or 'none'})")
    rows = []
    for row in reader:
        if None in row:  # csv.DictReader keeps cells beyond the header under the key None
            raise DatasetError(f"{path.name} line {reader.line_num} has more cells than its header has columns")
        rows.append({(k or "").strip(): (v or "").strip() for k, v in row.items()})
    if not rows:
        raise DatasetError(f"{path.name} has no rows")
    return rows
