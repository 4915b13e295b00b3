"""Migration 0003 drops the never-read ``codecs`` table; downgrade recreates it (empty, 0001 schema)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from app.db.migrate import alembic_config


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_drops_the_codecs_table_and_downgrade_brings_it_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = alembic_config(url)
    command.upgrade(config, "0002")
    assert "codecs" in _tables(url)
    command.upgrade(config, "0003")
    assert "codecs" not in _tables(url) and "jobs" in _tables(url)
    command.downgrade(config, "0002")
    engine = sa.create_engine(url)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("codecs")}
    engine.dispose()
    assert columns == {
        "name",
        "kind",
        "description",
        "rate_points",
        "rate_min",
        "rate_max",
        "rate_integer",
        "available",
        "reason",
        "updated_at",
    }
