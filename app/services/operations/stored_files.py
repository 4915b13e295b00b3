"""Which files under ``DATA_DIR`` the database refers to, with the sha256 recorded for each (issue 32).

One place names every row that points at a stored file, so ``licbench backup``, ``restore`` and ``verify`` agree:

- ``images.content_hash`` -> ``images/<content_hash>.png`` (the hash is the file's sha256);
- ``results.reconstruction_path`` with ``reconstruction_sha256`` (migration 0011);
- ``study_conditions.image_key`` with ``image_sha256`` (migration 0011);
- ``submitted_models.checkpoint_key`` with ``checkpoint_sha256``;
- ``iqa_datasets.file_hashes`` (migration 0011): every file under ``datasets/<id>``.

``maps/`` holds error maps computed on demand from a result (``app/services/jobs/viewer.py``): a cache, neither backed
up nor checked, and unreferenced only once its result is gone. The database, the embedded broker and the secret key
are no stored files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.services.storage import image_key

DATASETS_PREFIX = (
    "datasets"  # app.services.datasets.iqa_datasets.DATASETS_PREFIX (not imported: it pulls in the metrics)
)

MAPS_PREFIX = "maps"
# Top-level folders of blob storage; anything else under DATA_DIR that is not the database, the broker or the
# secret key is a stray file too.
STORAGE_PREFIXES = ("images", "reconstructions", "studies", "checkpoints", DATASETS_PREFIX, MAPS_PREFIX)


@dataclass
class References:
    """Storage keys the rows name, each with its recorded sha256 (``None``: not recorded yet), plus the folders of
    data sets whose rows predate per-file hashes (every file under them is referenced)."""

    files: dict[str, str | None] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)
    result_ids: set[int] = field(default_factory=set)

    def covers(self, key: str) -> bool:
        if key in self.files or any(key.startswith(f"{folder}/") for folder in self.folders):
            return True
        parts = key.split("/")
        if parts[0] == MAPS_PREFIX and len(parts) == 3:  # maps/<job>/<result>-<kind>.png: cache of a live result
            result = parts[2].split("-", 1)[0]
            return result.isdigit() and int(result) in self.result_ids
        return False


def collect(tables: Mapping[str, Iterable[Mapping]]) -> References:
    """The references in ``tables`` (table name -> row dicts, as :mod:`app.services.operations.snapshot` reads them)."""
    refs = References()
    for row in tables.get("images", ()):
        refs.files[image_key(row["content_hash"])] = row["content_hash"]
    for row in tables.get("results", ()):
        refs.result_ids.add(row["id"])
        refs.files[row["reconstruction_path"]] = row.get("reconstruction_sha256")
    for row in tables.get("study_conditions", ()):
        if row["image_key"]:
            refs.files[row["image_key"]] = row.get("image_sha256")
    for row in tables.get("submitted_models", ()):
        refs.files[row["checkpoint_key"]] = row["checkpoint_sha256"]
    for row in tables.get("iqa_datasets", ()):
        if not row["files_key"]:
            continue
        folder = f"{DATASETS_PREFIX}/{row['id']}"
        hashes = row.get("file_hashes")
        if hashes is None:
            refs.folders.add(folder)
        else:
            for relative, digest in hashes.items():
                refs.files[f"{folder}/{relative}"] = digest
    return refs


def service_files(data_dir: Path, database_url: str, broker_url: str) -> set[Path]:
    """Files under ``data_dir`` that belong to the service, not to blob storage: SQLite databases with their
    journals, and the generated secret key."""
    paths = {data_dir / "secret_key"}
    for url in (database_url, broker_url):
        if "sqlite:///" in url:
            base = Path(url.split("sqlite:///", 1)[1].split("?", 1)[0])
            paths |= {Path(f"{base}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")}
    return {p.resolve() for p in paths}


def stored_keys(data_dir: Path, skip: set[Path], prefixes: Iterable[str] | None = None) -> Iterable[str]:
    """Storage keys of the regular files under ``data_dir`` (or only under ``prefixes``), less ``skip``."""
    roots = [data_dir / p for p in prefixes] if prefixes is not None else [data_dir]
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink() and path.resolve() not in skip:
                yield path.relative_to(data_dir).as_posix()
