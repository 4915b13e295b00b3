"""``licbench restore``: bring a backup (``app/services/backup.py``) into ``DATA_DIR`` and ``DATABASE_URL``.

Nothing in the target changes until everything has been checked: the manifest's format and schema revision (a
revision this code does not know is a newer schema: refused), every table file and every stored file against its
sha256, and that the target holds no data (unless ``replace``). Then:

1. the files are copied into a staging folder inside ``DATA_DIR`` (hashed again on the way);
2. the rows go in as one unit: on PostgreSQL one transaction that drops the old tables, migrates to the backup's
   revision, inserts the rows, moves the id sequences past the restored ids and migrates to head; on SQLite the
   same into a new database file that then replaces the old one with one rename;
3. the staged folders are renamed into place;
4. tasks of jobs unfinished at the snapshot are queued again and sent to the broker.

The rows may come from either engine (values are engine-neutral, ``app/services/snapshot.py``). Stop the server
and the workers of the target while restoring.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Integer, func, inspect, select, text
from sqlalchemy.engine import make_url

from app.services import snapshot, stored_files
from app.services.backup import FORMAT, FORMAT_VERSION, BackupError, _remove_empty_dirs, _safe_url, copy_hashed
from app.services.storage import sha256_file
from app.settings import Settings

SKIPPED_TABLES = {"worker_heartbeats"}  # liveness of the old installation's workers means nothing here
INSERT_BATCH = 1000


@dataclass
class RestoreReport:
    schema_revision: str
    rows: dict[str, int]
    files: int
    requeued_tasks: int = 0
    requeued_jobs: list[int] = field(default_factory=list)
    send_error: str | None = None


def read_manifest(source: Path) -> dict:
    path = Path(source) / "manifest.json"
    if not path.is_file():
        raise BackupError(f"{source} is no licbench backup, or an incomplete one: manifest.json is missing")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} is not readable JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a licbench backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has backup format version {manifest.get('format_version')!r}; this licbench "
            f"reads version {FORMAT_VERSION}"
        )
    for name in ("schema_revision", "tables", "files"):
        if name not in manifest:
            raise BackupError(f"{path} lacks {name!r}")
    return manifest


def check_revision(revision: str) -> None:
    """Refuse a schema this code does not know (a backup from a newer licbench)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from app.db.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        known = scripts.get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupError(
            f"the backup's schema revision {revision!r} is newer than this licbench (its newest is "
            f"{scripts.get_current_head()}): restore it with a licbench at least as new as the backup"
        )


def _within(root: Path, relative: str) -> Path:
    path = (root / relative).resolve()
    if root.resolve() not in path.parents:
        raise BackupError(f"the manifest names a path outside the backup: {relative!r}")
    return path


def verify_backup(source: Path, manifest: dict) -> None:
    """Every table file and stored file exists with the manifest's sha256, or ``BackupError`` names the first one
    that does not."""
    known = {t.name for t in snapshot.tables()}
    for entry in manifest["tables"]:
        if entry["name"] not in known:
            raise BackupError(f"the backup has a table this licbench does not know: {entry['name']!r}")
        path = _within(source, entry["file"])
        if not path.is_file():
            raise BackupError(f"table file {entry['file']} is missing from the backup")
        if sha256_file(path) != entry["sha256"]:
            raise BackupError(
                f"table file {entry['file']} does not match its sha256 in manifest.json (truncated or changed)"
            )
    for key, digest in manifest["files"].items():
        path = _within(source / "files", key)
        if not path.is_file():
            raise BackupError(f"file files/{key} is missing from the backup")
        if sha256_file(path) != digest:
            raise BackupError(f"file files/{key} does not match its sha256 in manifest.json (truncated or changed)")


def _rows(source: Path, entry: dict) -> Iterator[dict]:
    with open(source / entry["file"], encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise BackupError(f"{entry['file']} line {number}: {exc}") from None


class _Absent(Exception):
    pass


def target_data(settings: Settings) -> list[str]:
    """What the target already holds: tables with rows, and stored files (empty list: nothing)."""
    from app.db.session import make_engine

    found: list[str] = []
    url = make_url(settings.resolved_database_url)
    absent = url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists()
    engine = make_engine(settings.resolved_database_url)
    try:
        if absent:  # a SQLite file not created yet holds nothing (and connecting would create it)
            raise _Absent
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            for table in snapshot.tables():
                if table.name in present:
                    count = connection.execute(select(func.count()).select_from(table)).scalar()
                    if count:
                        found.append(f"table {table.name} has {count} rows")
    except _Absent:
        pass
    except Exception as exc:
        raise BackupError(
            f"cannot reach the target database {_safe_url(settings.resolved_database_url)}: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from None
    finally:
        engine.dispose()
    data_dir = settings.data_dir
    skip = stored_files.service_files(data_dir.resolve(), settings.resolved_database_url, settings.resolved_broker_url)
    for prefix in stored_files.STORAGE_PREFIXES:
        first = next(iter(stored_files.stored_keys(data_dir.resolve(), skip, [prefix])), None)
        if first is not None:
            found.append(f"{data_dir / prefix} holds files (e.g. {first})")
    return found


def _fill_hashes(name: str, row: dict, files: dict[str, str]) -> dict:
    """Hashes older rows lack (migration 0011) come from the verified manifest."""
    if name == "results" and row.get("reconstruction_sha256") is None:
        row["reconstruction_sha256"] = files.get(row["reconstruction_path"])
    elif name == "study_conditions" and row.get("image_sha256") is None and row.get("image_key"):
        row["image_sha256"] = files.get(row["image_key"])
    elif name == "iqa_datasets" and row.get("file_hashes") is None and row.get("files_key"):
        prefix = f"{stored_files.DATASETS_PREFIX}/{row['id']}/"
        row["file_hashes"] = {k[len(prefix) :]: v for k, v in files.items() if k.startswith(prefix)}
    return row


def _load(connection, source: Path, manifest: dict, revision: str) -> dict[str, int]:
    """Drop whatever the target has, migrate to ``revision``, insert the rows, reset sequences, migrate to head;
    all on ``connection`` (inside the caller's transaction on PostgreSQL)."""
    from alembic import command

    from app.db.migrate import alembic_config
    from app.db.tables import Base

    _drop_everything(connection)
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    counts: dict[str, int] = {}
    # Rows go in with the table definitions of this code at the backup's revision: a column the restored
    # revision lacks would fail here; backups are only taken at the code's head, and restores load them at that
    # revision before migrating on, so the columns match.
    entries = {e["name"]: e for e in manifest["tables"]}
    for table in snapshot.tables():
        entry = entries.get(table.name)
        if entry is None or table.name in SKIPPED_TABLES:
            continue
        present = {c["name"] for c in inspect(connection).get_columns(table.name)}
        batch: list[dict] = []
        count = 0
        for row in _rows(source, entry):
            row = _fill_hashes(table.name, row, manifest["files"])
            row = {k: v for k, v in row.items() if k in present}
            batch.append(snapshot.decode_row(table, row))
            if len(batch) >= INSERT_BATCH:
                connection.execute(table.insert(), batch)
                count += len(batch)
                batch = []
        if batch:
            connection.execute(table.insert(), batch)
            count += len(batch)
        if count != entry["rows"]:
            raise BackupError(f"{entry['file']} holds {count} rows, the manifest says {entry['rows']}")
        counts[table.name] = count
    if connection.dialect.name == "postgresql":
        for table in Base.metadata.sorted_tables:
            pk = list(table.primary_key.columns)
            if len(pk) == 1 and isinstance(pk[0].type, Integer):
                # explicit ids leave the serial sequence at 1: the next insert would collide without this
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                        f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"
                    )
                )
    command.upgrade(config, "head")
    return counts


def _drop_everything(connection) -> None:
    from sqlalchemy import MetaData

    existing = MetaData()
    existing.reflect(bind=connection)
    existing.drop_all(bind=connection)


def restore(
    settings: Settings, source: Path, *, replace: bool = False, log: Callable[[str], None] = print
) -> RestoreReport:
    """Restore the backup at ``source`` into the installation ``settings`` names (see the module docstring)."""
    from app.db.session import make_engine

    source = Path(source).resolve()
    manifest = read_manifest(source)
    revision = manifest["schema_revision"]
    check_revision(revision)
    verify_backup(source, manifest)
    log(f"backup verified: {len(manifest['files'])} files, {len(manifest['tables'])} tables, schema {revision}")
    if not replace:
        found = target_data(settings)
        if found:
            raise BackupError(
                "the target is not empty (" + "; ".join(found[:3]) + "): restore into an empty "
                "DATA_DIR and database, or pass --replace to overwrite them"
            )
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    staging = data_dir / f".restore-{token}"
    database_url = settings.resolved_database_url
    try:
        for key, digest in manifest["files"].items():  # 1. stage the files, hashing them again
            got, _ = copy_hashed(source / "files" / key, staging / key)
            if got != digest:
                raise BackupError(f"file files/{key} changed while it was being restored")
        try:
            counts = _restore_rows(database_url, source, manifest, revision, token)  # 2. the rows, as one unit
        except (BackupError, KeyboardInterrupt):
            raise
        except Exception as exc:  # the transaction was rolled back / the new SQLite file removed
            message = str(exc).splitlines()[0] if str(exc) else ""
            raise BackupError(
                f"loading the rows into {_safe_url(database_url)} failed: {type(exc).__name__}: {message}"
            ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_in(data_dir, staging, token)  # 3. the files
    report = RestoreReport(revision, counts, len(manifest["files"]))
    engine = make_engine(database_url)
    try:
        _requeue(engine, report)  # 4. unfinished work
    finally:
        engine.dispose()
    return report


def _restore_rows(database_url: str, source: Path, manifest: dict, revision: str, token: str) -> dict[str, int]:
    from app.db.session import make_engine

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        final = Path(url.database)
        final.parent.mkdir(parents=True, exist_ok=True)
        fresh = final.with_name(f"{final.name}.restore-{token}")
        engine = make_engine(str(url.set(database=str(fresh))))
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # batch migrations recreate tables
                connection.commit()
                counts = _load(connection, source, manifest, revision)
                connection.commit()
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except BaseException:
            engine.dispose()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{fresh}{suffix}").unlink(missing_ok=True)
            raise
        engine.dispose()
        for suffix in ("-wal", "-shm", "-journal"):  # the old database's journals must not meet the new file
            Path(f"{final}{suffix}").unlink(missing_ok=True)
            Path(f"{fresh}{suffix}").unlink(missing_ok=True)
        os.replace(fresh, final)
        return counts
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:  # PostgreSQL: DDL and rows in one transaction
            return _load(connection, source, manifest, revision)
    finally:
        engine.dispose()


def _swap_in(data_dir: Path, staging: Path, token: str) -> None:
    """Replace the storage folders of ``data_dir`` by the staged ones (renames within one file system)."""
    old = data_dir / f".restore-old-{token}"
    old.mkdir()
    for prefix in stored_files.STORAGE_PREFIXES:
        current = data_dir / prefix
        if current.exists():
            current.rename(old / prefix)  # maps/ goes too: error maps of the old results
        if (staging / prefix).exists():
            (staging / prefix).rename(current)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    _remove_empty_dirs(data_dir / stored_files.DATASETS_PREFIX)


def _requeue(engine, report: RestoreReport) -> None:
    """Tasks queued or running at the snapshot belong to no live worker now: queue them again and send them."""
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from app.db.enums import JobStatus, TaskState
    from app.db.tables import Job, Task
    from app.services import catalog
    from engine import queue
    from engine.contract import TaskSpec

    now = datetime.now(UTC)
    with Session(engine) as session:
        active = list(session.scalars(select(Job.id).where(Job.status.in_(JobStatus.active()))))
        if not active:
            return
        session.execute(
            update(Task)
            .where(Task.job_id.in_(active), Task.state.in_(TaskState.unfinished()))
            .values(state=TaskState.QUEUED, worker=None, started_at=None, heartbeat_at=None, queued_at=now)
        )
        session.commit()
        tasks = list(
            session.scalars(
                select(Task).where(Task.job_id.in_(active), Task.state == TaskState.QUEUED).order_by(Task.id)
            )
        )
        report.requeued_jobs = active
        report.requeued_tasks = len(tasks)
        try:
            queue.enqueue(
                [TaskSpec.of(t) for t in tasks],
                {name: c.kind for name, c in catalog.codecs(session).items()},
            )
        except Exception as exc:  # they stay queued: a worker's sweep sends them again (TASK_REDELIVERY_S)
            report.send_error = f"{type(exc).__name__}: {exc}"
