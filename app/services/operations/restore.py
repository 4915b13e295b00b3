"""``licbench restore``: bring a backup (``app/services/operations/backup.py``) into ``DATA_DIR`` and ``DATABASE_URL``.

Nothing in the target changes until everything has been checked: the manifest's format and schema revision (a
revision this code does not know is a newer schema: refused), every table file and every stored file against its
sha256, and that the target holds no data (unless ``replace``). Then:

1. the files are copied into a staging folder inside ``DATA_DIR`` (hashed again on the way);
2. the rows go in as one unit: on PostgreSQL one transaction that drops the old tables, migrates to the backup's
   revision, inserts the rows, moves the id sequences past the restored ids and migrates to head; on SQLite the
   same into a new database file that then replaces the old one with one rename;
3. the staged folders are renamed into place;
4. unfinished work is sent again: tasks of jobs unfinished at the snapshot are queued again and sent to the
   broker, data-set imports still verifying or scoring and study crops still unscored are sent again, and a
   study scale that was sent to a worker is marked unsent (the next ``GET /scale`` sends it).

A backup taken at an older schema revision (by an older licbench) is loaded at that revision, migrated to head,
and the hash columns added since are filled from the verified manifest.

The rows may come from either engine (values are engine-neutral, ``app/services/operations/snapshot.py``). Stop
the server and the workers of the target while restoring.
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

from sqlalchemy import Column, Integer, MetaData, Table, bindparam, func, inspect, select, text, update
from sqlalchemy.engine import make_url

from app.services.operations import snapshot, stored_files
from app.services.operations.backup import (
    FORMAT,
    FORMAT_VERSION,
    BackupError,
    _remove_empty_dirs,
    _safe_url,
    copy_hashed,
)
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
    requeued_datasets: list[int] = field(default_factory=list)  # data-set imports sent again
    requeued_crop_studies: list[int] = field(default_factory=list)  # studies whose unscored crops were sent again
    scales_unsent: list[int] = field(default_factory=list)  # studies whose worker scale the next GET /scale sends
    analysis_send_error: str | None = None


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


def _fill_hashes(name: str, row: dict, files: dict[str, str], columns: set[str]) -> dict:
    """Hashes a row lacks (written before migration 0013, or not recorded yet) come from the verified manifest,
    where the table has the column at the revision being loaded."""
    if name == "results" and "reconstruction_sha256" in columns and row.get("reconstruction_sha256") is None:
        row["reconstruction_sha256"] = files.get(row["reconstruction_path"])
    elif (
        name == "study_conditions"
        and "image_sha256" in columns
        and row.get("image_sha256") is None
        and row.get("image_key")
    ):
        row["image_sha256"] = files.get(row["image_key"])
    elif (
        name == "iqa_datasets" and "file_hashes" in columns and row.get("file_hashes") is None and row.get("files_key")
    ):
        prefix = f"{stored_files.DATASETS_PREFIX}/{row['id']}/"
        row["file_hashes"] = {k[len(prefix) :]: v for k, v in files.items() if k.startswith(prefix)}
    return row


def _table_at_revision(connection, table: Table) -> Table:
    """``table`` as the database holds it now: its reflected columns, typed as the model types them where the model
    still has the column (so values decode alike on both engines)."""
    reflected = inspect(connection).get_columns(table.name)
    return Table(
        table.name,
        MetaData(),
        *(
            Column(c["name"], table.columns[c["name"]].type if c["name"] in table.columns else c["type"])
            for c in reflected
        ),
    )


def _fill_hashes_at_head(connection, files: dict[str, str]) -> None:
    """After migrating to head: record the manifest's hashes in rows of a backup older than the hash columns (the
    files were checked against the manifest just now, so these are the hashes of the restored files)."""
    from app.db.tables import Base

    tables = Base.metadata.tables
    for name, key_name, hash_name in (
        ("results", "reconstruction_path", "reconstruction_sha256"),
        ("study_conditions", "image_key", "image_sha256"),
    ):
        table = tables[name]
        rows = connection.execute(
            select(table.c.id, table.c[key_name]).where(table.c[hash_name].is_(None), table.c[key_name].is_not(None))
        ).all()
        values = [{"row_id": i, "digest": files[k]} for i, k in rows if k in files]
        if values:
            connection.execute(
                update(table).where(table.c.id == bindparam("row_id")).values({hash_name: bindparam("digest")}),
                values,
            )
    datasets = tables["iqa_datasets"]
    for (dataset_id,) in connection.execute(
        select(datasets.c.id).where(datasets.c.file_hashes.is_(None), datasets.c.files_key.is_not(None))
    ).all():
        row = _fill_hashes("iqa_datasets", {"id": dataset_id, "files_key": True}, files, {"file_hashes"})
        if not row["file_hashes"]:
            continue  # no file of it in the backup: verify hashes whatever the folder holds later
        connection.execute(update(datasets).where(datasets.c.id == dataset_id).values(file_hashes=row["file_hashes"]))


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
    # Rows go in at the backup's revision, into the columns the database has there: the model's column types for
    # the columns this code still knows, the reflected ones for a column a later migration drops or renames (it
    # moves the data on the way to head). Hash columns a later revision adds are filled after the upgrade.
    entries = {e["name"]: e for e in manifest["tables"]}
    present = snapshot.present_columns(connection)
    for table in snapshot.tables():
        entry = entries.get(table.name)
        if entry is None or table.name in SKIPPED_TABLES:
            continue
        if table.name not in present:
            raise BackupError(f"{entry['file']}: table {table.name} does not exist at schema revision {revision}")
        at_revision = _table_at_revision(connection, table)
        batch: list[dict] = []
        count = 0
        for row in _rows(source, entry):
            row = _fill_hashes(table.name, row, manifest["files"], set(at_revision.columns.keys()))
            batch.append(snapshot.decode_row(at_revision, row))
            if len(batch) >= INSERT_BATCH:
                connection.execute(at_revision.insert(), batch)
                count += len(batch)
                batch = []
        if batch:
            connection.execute(at_revision.insert(), batch)
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
    _fill_hashes_at_head(connection, manifest["files"])
    return counts


def _drop_everything(connection) -> None:
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
    """Work that was unfinished at the snapshot belongs to no live worker now (its messages stayed in the old
    broker): job tasks, data-set imports and study crop scores are sent again; a study scale sent to a worker is
    marked unsent, so the next ``GET /scale`` sends it."""
    _requeue_jobs(engine, report)
    _requeue_analysis(engine, report)


def _requeue_jobs(engine, report: RestoreReport) -> None:
    """Tasks queued or running at the snapshot: queue them again and send them."""
    from sqlalchemy.orm import Session

    from app.db.enums import JobStatus, TaskState
    from app.db.tables import Job, Task
    from app.services.jobs import catalog
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


def _requeue_analysis(engine, report: RestoreReport) -> None:
    """Data sets still importing, crops still unscored and scales sent to a worker at the snapshot."""
    from sqlalchemy.orm import Session

    from app.db.tables import IqaDataset, IqaDatasetImage, Study, StudyCropScore

    now = datetime.now(UTC)
    with Session(engine) as session:
        # Scales: the request that finds the marker gone sends the scale again (studies.request_scale).
        stale_scales = list(session.scalars(select(Study.id).where(Study.scale_queued_version.is_not(None))))
        if stale_scales:
            session.execute(
                update(Study).where(Study.id.in_(stale_scales)).values(scale_queued_version=None, scale_queued_at=None)
            )
            session.commit()
        report.scales_unsent = stale_scales
        datasets = session.execute(
            select(IqaDataset.id, IqaDataset.phase).where(IqaDataset.status.in_(("queued", "running")))
        ).all()
        crops: dict[int, list[int]] = {}
        for study_id, condition_id in session.execute(
            select(StudyCropScore.study_id, StudyCropScore.condition_id)
            .where(StudyCropScore.scored.is_(False))
            .order_by(StudyCropScore.study_id, StudyCropScore.condition_id)
        ):
            crops.setdefault(study_id, []).append(condition_id)
        if crops:  # a send that fails below is sent again by the next report request after STALE_AFTER
            session.execute(update(StudyCropScore).where(StudyCropScore.scored.is_(False)).values(created_at=now))
            session.commit()
        try:
            if datasets:
                from app.services.datasets import iqa_datasets  # imports the metrics: only when there is work
                from app.settings import get_settings

                chunk = max(1, get_settings().dataset_chunk_images)
                for dataset_id, phase in datasets:
                    if phase == "scoring":  # verified already: score what is left
                        left = list(
                            session.scalars(
                                select(IqaDatasetImage.id)
                                .where(IqaDatasetImage.dataset_id == dataset_id, IqaDatasetImage.scored.is_(False))
                                .order_by(IqaDatasetImage.reference, IqaDatasetImage.id)
                            )
                        )
                        iqa_datasets.enqueue_scoring(dataset_id, iqa_datasets.in_chunks(left, chunk))
                    else:  # verify (again) from the start; prepare() is idempotent
                        iqa_datasets.send_prepare(dataset_id)
                    report.requeued_datasets.append(dataset_id)
            if crops:
                from app.services.studies import crop_scores

                for study_id, condition_ids in crops.items():
                    crop_scores.send(study_id, condition_ids)
                    report.requeued_crop_studies.append(study_id)
        except Exception as exc:
            report.analysis_send_error = f"{type(exc).__name__}: {exc}"
