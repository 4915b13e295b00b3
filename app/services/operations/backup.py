"""``licbench backup``: a consistent snapshot of a running installation in a new directory (issue 32).

Layout of a backup::

    manifest.json          format, schema revision, tables (file, rows, sha256), files (key -> sha256)
    db/<table>.jsonl       one JSON object per row, tables in dependency order (app/services/operations/snapshot.py)
    files/<key>            every stored file a row refers to (app/services/operations/stored_files.py)

Consistency without stopping the service: files are written before the rows that name them are committed, and a
finished job's files are removed only after its rows are gone. So the files are copied first (pass 1), then the
rows are read in one transaction, then every file a row names that pass 1 missed (or saw with another hash) is
copied (pass 2), and copies no row names are dropped. A file deleted between the snapshot and pass 2 (its job was
deleted meanwhile) makes the snapshot be taken again. The read transaction takes no lock that a writer waits for
(WAL on SQLite, MVCC on PostgreSQL), so the API is never blocked. The directory is written as ``DEST.partial-*``
and renamed to ``DEST`` once ``manifest.json`` is complete: a ``DEST`` that exists is whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.services.operations import snapshot, stored_files
from app.settings import Settings

FORMAT = "licbench-backup"
FORMAT_VERSION = 1
BACKED_UP_PREFIXES = tuple(p for p in stored_files.STORAGE_PREFIXES if p != stored_files.MAPS_PREFIX)
SNAPSHOT_ATTEMPTS = 3


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass
class BackupReport:
    path: Path
    schema_revision: str
    rows: dict[str, int]
    files: int
    bytes: int
    missing: list[str] = field(default_factory=list)  # named by a row, absent from DATA_DIR
    mismatched: list[str] = field(default_factory=list)  # content differs from the row's recorded sha256


def copy_hashed(source: Path, target: Path) -> tuple[str, int]:
    """Copy ``source`` to ``target`` (parents created), hashing the bytes as they pass; (sha256, size)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(1 << 20):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    shutil.copystat(source, target)
    return digest.hexdigest(), size


def code_head() -> str:
    """The newest migration this code knows."""
    from alembic.script import ScriptDirectory

    from app.db.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # a code tree without migrations cannot exist; say so rather than return None
        raise RuntimeError("migrations/versions holds no migration")
    return head


def _dump_tables(engine, folder: Path) -> tuple[str | None, dict[str, dict], stored_files.References]:
    """Read every table in one transaction into ``folder/<table>.jsonl``; (revision, table entries, references)."""
    folder.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict] = {}
    wanted = {"images", "results", "study_conditions", "submitted_models", "iqa_datasets"}
    kept: dict[str, list[dict]] = {}
    with snapshot.read_transaction(engine) as connection:
        revision = snapshot.schema_revision(connection)
        # The columns the database holds: the same as the code's at head; at an older revision (the writer of an
        # older licbench) the rows carry that revision's columns, and restore loads them at that revision.
        present = snapshot.present_columns(connection)
        for table in snapshot.tables():
            if table.name not in present:
                continue  # a table a later migration creates
            path = folder / f"{table.name}.jsonl"
            digest = hashlib.sha256()
            count = 0
            with open(path, "w", encoding="utf-8") as handle:
                for row in snapshot.read_rows(connection, table, present[table.name]):
                    line = snapshot.dump_line(row)
                    handle.write(line)
                    digest.update(line.encode("utf-8"))
                    count += 1
                    if table.name in wanted:
                        kept.setdefault(table.name, []).append(row)
            entries[table.name] = {"file": f"db/{table.name}.jsonl", "rows": count, "sha256": digest.hexdigest()}
    return revision, entries, stored_files.collect(kept)


def backup(settings: Settings, dest: Path, log: Callable[[str], None] = print) -> BackupReport:
    """Write a backup of the installation ``settings`` names into the new directory ``dest``."""
    from app.db.session import make_engine

    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists: a backup goes into a new (or empty) directory")
    data_dir = settings.data_dir.resolve()
    database_url = settings.resolved_database_url
    head = code_head()
    engine = make_engine(database_url)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = dest.parent / f"{dest.name}.partial-{secrets.token_hex(4)}"
    work.mkdir()
    try:
        files_dir = work / "files"
        skip = stored_files.service_files(data_dir, database_url, settings.resolved_broker_url)
        copied: dict[str, tuple[str, int]] = {}
        for key in stored_files.stored_keys(data_dir, skip, BACKED_UP_PREFIXES):  # pass 1: before the snapshot
            try:
                copied[key] = copy_hashed(data_dir / key, files_dir / key)
            except FileNotFoundError:
                continue  # removed while we walked: if a row still names it, pass 2 says so
        log(f"copied {len(copied)} stored files; reading the database in one transaction")
        for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
            revision, tables, refs = _dump_tables(engine, work / "db")
            if revision is None:
                raise BackupError(
                    f"the database at {_safe_url(database_url)} has no licbench schema "
                    "(run `licbench db upgrade` first)"
                )
            if revision != head:
                raise BackupError(
                    f"the database is at schema revision {revision}, this licbench at {head}: "
                    "back up with the licbench version that matches the database"
                )
            missing, mismatched = [], []
            wanted = set(refs.files) | {k for k in copied if any(k.startswith(f"{f}/") for f in refs.folders)}
            for folder in refs.folders:  # data sets older than per-file hashes: whatever the folder holds now
                for key in stored_files.stored_keys(data_dir, skip, [folder]):
                    wanted.add(key)
            for key in sorted(wanted):  # pass 2: what the snapshot names and pass 1 lacks or saw differently
                recorded = refs.files.get(key)
                if key in copied and (recorded is None or copied[key][0] == recorded):
                    continue
                try:
                    copied[key] = copy_hashed(data_dir / key, files_dir / key)
                except FileNotFoundError:
                    missing.append(key)
                    continue
                if recorded is not None and copied[key][0] != recorded:
                    mismatched.append(key)
            if not missing or attempt == SNAPSHOT_ATTEMPTS:
                break
            log(f"{len(missing)} files vanished after the snapshot (deleted meanwhile?): taking it again")
        for key in set(copied) - wanted:  # written after the snapshot, or named by no row at all
            (files_dir / key).unlink()
            del copied[key]
        _remove_empty_dirs(files_dir)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(),
            "schema_revision": revision,
            "source_engine": engine.dialect.name,
            "tables": [{"name": name, **entry} for name, entry in tables.items()],
            "files": {key: copied[key][0] for key in sorted(copied)},
            "missing_files": missing,
            "mismatched_files": mismatched,
        }
        _write_json(work / "manifest.json", manifest)
        if dest.exists():
            dest.rmdir()
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        engine.dispose()
    assert revision is not None  # refused inside the loop
    return BackupReport(
        dest,
        revision,
        {n: e["rows"] for n, e in tables.items()},
        len(copied),
        sum(size for _, size in copied.values()),
        missing,
        mismatched,
    )


def _write_json(path: Path, value: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _remove_empty_dirs(root: Path) -> None:
    if not root.is_dir():
        return
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            pass


def _safe_url(url: str) -> str:
    """``url`` without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the configured database"
