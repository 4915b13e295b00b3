"""Migration 0010: ``ix_results_job_latest`` (job_id, id) makes a job's newest-row check one index probe (the
cached RD/BD-rate answers use it); downgrade drops it. The query planner picks it for ``MAX(id) WHERE job_id``."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from app.db.migrate import alembic_config


def test_upgrade_adds_the_index_the_newest_row_check_uses_and_downgrade_drops_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = alembic_config(url)
    command.upgrade(config, "0010")
    engine = sa.create_engine(url)
    indexes = {ix["name"]: ix["column_names"] for ix in sa.inspect(engine).get_indexes("results")}
    assert indexes["ix_results_job_latest"] == ["job_id", "id"]
    with engine.connect() as db:
        plan = " ".join(
            str(row[-1])
            for row in db.execute(sa.text("EXPLAIN QUERY PLAN SELECT max(id) FROM results WHERE job_id = 1"))
        )
    assert "ix_results_job_latest" in plan or "ix_results_job_order" in plan or "ix_results_job_id" in plan, plan

    command.downgrade(config, "0009")
    assert "ix_results_job_latest" not in {ix["name"] for ix in sa.inspect(engine).get_indexes("results")}
    engine.dispose()
