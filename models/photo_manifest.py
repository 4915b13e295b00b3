"""Photo sets kept out of git: a committed manifest names each file, its size and sha256, and where it came from.

A manifest (JSON) records the public repository and commit a set was taken from (through the ``fetch`` tool's
mirror), the folder inside that repository, the git-ignored folder the copy goes to (relative to the
repository root) and one entry per photo::

    {"name": "wikipedia-photos", "repository": "Zelex/images", "commit": "0b8a89d...",
     "source_dir": "wikipedia-photos", "folder": "data/training/wikipedia-photos",
     "licence": "...", "files": [{"path": "001.png", "size": 1537493, "sha256": "..."}, ...]}

``scripts/fetch_photos.py`` copies a set from the mirror and checks every hash; training
(``models.training.multirate``) and ``benchmarks/kodak.py`` call :func:`verify_photos` and stop, naming the file,
when one is missing or differs: never a run on a partial set.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
COPY_SCRIPT = "scripts/fetch_photos.py"


class PhotoSetError(ValueError):
    """A manifest is malformed, or a photo it lists is missing or differs (the message names the file)."""


@dataclass(frozen=True)
class ManifestFile:
    path: str  # relative to the set's folder (and to ``source_dir`` in the repository)
    size: int
    sha256: str


@dataclass(frozen=True)
class PhotoManifest:
    name: str
    repository: str
    commit: str
    source_dir: str
    folder: str  # the local copy, relative to the repository root (git-ignored)
    files: tuple[ManifestFile, ...]
    licence: str = ""

    def local_folder(self, root: Path = REPO_ROOT) -> Path:
        return Path(root) / self.folder

    def copy_command(self) -> str:
        return f"python {COPY_SCRIPT} {self.name}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(path: Path) -> PhotoManifest:
    """Read a manifest; :class:`PhotoSetError` says what is wrong with it."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PhotoSetError(f"cannot read photo manifest {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise PhotoSetError(f"photo manifest {path} is not JSON ({exc.msg} at line {exc.lineno})") from None
    try:
        files = tuple(ManifestFile(str(f["path"]), int(f["size"]), str(f["sha256"]).lower()) for f in raw["files"])
        manifest = PhotoManifest(
            name=str(raw["name"]),
            repository=str(raw["repository"]),
            commit=str(raw["commit"]),
            source_dir=str(raw["source_dir"]),
            folder=str(raw["folder"]),
            files=files,
            licence=str(raw.get("licence", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PhotoSetError(f"photo manifest {path} lacks or misstates {exc}") from None
    if not files:
        raise PhotoSetError(f"photo manifest {path} lists no file")
    for f in files:
        if Path(f.path).is_absolute() or ".." in Path(f.path).parts:
            raise PhotoSetError(f"photo manifest {path}: {f.path!r} is not a path inside the set's folder")
    return manifest


def verify_photos(manifest: PhotoManifest, root: Path = REPO_ROOT) -> list[Path]:
    """Every photo of ``manifest`` under its local folder, checked against its size and sha256.

    Raises :class:`PhotoSetError` naming the first missing or differing file and the command that copies the set.
    """
    folder = manifest.local_folder(root)
    paths = []
    for f in manifest.files:
        path = folder / f.path
        if not path.is_file():
            raise PhotoSetError(f"{manifest.name}: {path} is missing; copy the set with `{manifest.copy_command()}`")
        if path.stat().st_size != f.size or file_sha256(path) != f.sha256:
            raise PhotoSetError(
                f"{manifest.name}: {path} does not match its sha256 in the manifest "
                f"(expected {f.sha256}); copy the set again with `{manifest.copy_command()}`"
            )
        paths.append(path)
    return paths
