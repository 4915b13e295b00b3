"""``licbench verify``: every file a row names exists with its recorded sha256; stray files are listed (issue 32).

Rows older than migration 0011 have no hash for their reconstruction, study crop or data set files: the first
verify records the hash of the file as it is then (lazy backfill; reported as ``hashed``). Stray files, that is
files under ``DATA_DIR`` that no row names (not the database, the broker or the secret key), are listed and, with
``prune``, removed; files younger than ``min_age_s`` are left alone, since the row naming a file is committed
just after the file is written (a running upload or task).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.services.operations import snapshot, stored_files
from app.services.storage import sha256_file
from app.settings import Settings


@dataclass
class VerifyReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    hashed: list[str] = field(default_factory=list)  # hash recorded now (rows older than migration 0011)
    unreferenced: list[str] = field(default_factory=list)
    too_recent: int = 0
    pruned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.changed


def _read_references(engine) -> tuple[stored_files.References, dict[str, list[dict]]]:
    wanted = {"images", "results", "study_conditions", "submitted_models", "iqa_datasets"}
    rows: dict[str, list[dict]] = {}
    with snapshot.read_transaction(engine) as connection:
        for table in snapshot.tables():
            if table.name in wanted:
                rows[table.name] = list(snapshot.read_rows(connection, table))
    return stored_files.collect(rows), rows


def _record_hashes(engine, data_dir: Path, rows: dict[str, list[dict]], report: VerifyReport) -> None:
    from app.db.tables import IqaDataset, Result, StudyCondition

    with Session(engine) as session:
        for row in rows["results"]:
            if row["reconstruction_sha256"] is None and (data_dir / row["reconstruction_path"]).is_file():
                session.execute(
                    update(Result)
                    .where(Result.id == row["id"], Result.reconstruction_sha256.is_(None))
                    .values(reconstruction_sha256=sha256_file(data_dir / row["reconstruction_path"]))
                )
                report.hashed.append(row["reconstruction_path"])
        for row in rows["study_conditions"]:
            if row["image_sha256"] is None and row["image_key"] and (data_dir / row["image_key"]).is_file():
                session.execute(
                    update(StudyCondition)
                    .where(StudyCondition.id == row["id"], StudyCondition.image_sha256.is_(None))
                    .values(image_sha256=sha256_file(data_dir / row["image_key"]))
                )
                report.hashed.append(row["image_key"])
        for row in rows["iqa_datasets"]:
            folder = data_dir / stored_files.DATASETS_PREFIX / str(row["id"])
            if row["file_hashes"] is None and row["files_key"] and folder.is_dir():
                from app.services.storage import sha256_tree

                hashes = sha256_tree(folder)
                session.execute(
                    update(IqaDataset)
                    .where(IqaDataset.id == row["id"], IqaDataset.file_hashes.is_(None))
                    .values(file_hashes=hashes)
                )
                report.hashed += [f"{stored_files.DATASETS_PREFIX}/{row['id']}/{k}" for k in hashes]
        session.commit()


def verify(settings: Settings, *, prune: bool = False, min_age_s: float = 3600.0) -> VerifyReport:
    """Check the installation ``settings`` names (see the module docstring)."""
    from app.db.session import make_engine

    data_dir = settings.data_dir.resolve()
    engine = make_engine(settings.resolved_database_url)
    report = VerifyReport()
    started = time.time()
    try:
        refs, rows = _read_references(engine)
        for key, digest in sorted(refs.files.items()):
            path = data_dir / key
            if not path.is_file():
                report.missing.append(key)
            elif digest is not None:
                report.checked += 1
                if sha256_file(path) != digest:
                    report.changed.append(key)
        _record_hashes(engine, data_dir, rows, report)
        report.checked += len(report.hashed)
    finally:
        engine.dispose()
    skip = stored_files.service_files(data_dir, settings.resolved_database_url, settings.resolved_broker_url)
    for key in _strays(data_dir, skip, refs):
        try:
            age = started - (data_dir / key).stat().st_mtime
        except FileNotFoundError:
            continue
        if age < min_age_s:
            report.too_recent += 1
            continue
        report.unreferenced.append(key)
        if prune:
            (data_dir / key).unlink(missing_ok=True)
            report.pruned.append(key)
    if prune:
        _remove_empty_folders(data_dir, skip)
    return report


def _strays(data_dir: Path, skip: set[Path], refs: stored_files.References) -> Iterable[str]:
    for key in stored_files.stored_keys(data_dir, skip):
        if not refs.covers(key):
            yield key


def _remove_empty_folders(data_dir: Path, skip: set[Path]) -> None:
    folders = sorted(
        (p for p in data_dir.rglob("*") if p.is_dir() and not p.is_symlink()), key=lambda p: len(p.parts), reverse=True
    )
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            pass
