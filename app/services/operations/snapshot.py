"""The database as engine-neutral rows (issue 32): read in one transaction, written as JSON Lines, read back.

Every table of ``app.db.tables`` is read in dependency order (``MetaData.sorted_tables``) inside one read
transaction: ``REPEATABLE READ, READ ONLY`` on PostgreSQL (one snapshot for every statement; readers never block
writers there), a deferred ``BEGIN`` on SQLite (in WAL mode the first read fixes the snapshot and writers go on).

Values are written as JSON: datetimes as ISO 8601 in UTC (SQLite hands back naive UTC, PostgreSQL aware values),
JSON columns as JSON, booleans as ``true``/``false``, binary columns as ``{"$base64": ...}``, floats as Python's
``json`` writes them. Reading a row back turns them into what the target engine's column types accept.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, LargeBinary, Table, inspect, select, text
from sqlalchemy.types import DateTime

from app.db.tables import Base


def tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(Base.metadata.sorted_tables)


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection whose statements all see one snapshot of the database; nothing is written."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        elif engine.dialect.name == "sqlite":
            # pysqlite opens no transaction for SELECTs: start one by hand so every read sees the same snapshot
            connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            connection.rollback()


def schema_revision(connection: Connection) -> str | None:
    """The Alembic revision the database is at (``None`` before the first migration)."""
    try:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        connection.rollback() if connection.dialect.name != "sqlite" else None
        return None


def encode_value(column_type: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, DateTime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(column_type, LargeBinary):
        return {"$base64": base64.b64encode(value).decode("ascii")}
    return value


def decode_value(column_type: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, DateTime):
        moment = datetime.fromisoformat(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(column_type, LargeBinary):
        return base64.b64decode(value["$base64"])
    return value


def present_columns(connection: Connection) -> dict[str, set[str]]:
    """Table name -> the column names the database holds now (at its own schema revision, which may be older
    than this code's: a column added later is absent there)."""
    found = inspect(connection)
    return {name: {c["name"] for c in found.get_columns(name)} for name in found.get_table_names()}


def read_rows(connection: Connection, table: Table, present: set[str] | None = None) -> Iterator[dict]:
    """The rows of ``table`` in primary-key order, encoded (see the module docstring); only the columns in
    ``present`` when given (a database at an older revision)."""
    columns = [c for c in table.columns if present is None or c.name in present]
    result = connection.execution_options(yield_per=1000).execute(select(*columns).order_by(*table.primary_key.columns))
    for row in result:
        yield {c.name: encode_value(c.type, v) for c, v in zip(columns, row)}


def dump_line(row: dict) -> str:
    return json.dumps(row, separators=(",", ":"), sort_keys=True) + "\n"


def decode_row(table: Table, row: dict) -> dict:
    """A row read back from JSON, with values the target's column types accept; unknown keys are an error."""
    unknown = set(row) - set(table.columns.keys())
    if unknown:
        raise ValueError(f"table {table.name}: unknown columns {sorted(unknown)}")
    return {name: decode_value(table.columns[name].type, value) for name, value in row.items()}
