"""Run Alembic migrations programmatically (``licbench db upgrade``, start-up, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade_to_head(database_url: str | None = None) -> None:
    """Bring the database at ``database_url`` (default: settings) to the latest schema."""
    from app.settings import get_settings

    get_settings().data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), "head")


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer licbench than this code."""


def check_schema_not_newer(database_url: str | None = None) -> None:
    """Refuse to run against a database whose schema revision this code does not know (a newer licbench migrated
    it): old code would misread or corrupt rows it does not understand. An unreachable database or one not yet
    migrated passes (start-up reports those elsewhere)."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from app.db.session import make_engine
    from app.settings import get_settings

    url = database_url or get_settings().resolved_database_url
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # unreachable, or no alembic_version table yet
        return
    finally:
        engine.dispose()
    if revision is None:
        return
    scripts = ScriptDirectory.from_config(alembic_config(database_url))
    known = {script.revision for script in scripts.walk_revisions()}
    if revision not in known:
        raise SchemaTooNew(
            f"the database is at schema revision {revision}, newer than this licbench (newest "
            f"{scripts.get_current_head()}): a newer licbench migrated it. Run that version, or "
            "restore a backup taken before the upgrade (docs/operations.md)"
        )
