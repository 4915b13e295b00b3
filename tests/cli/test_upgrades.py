"""Safe upgrades (issue 32): migrations keep every row step by step (and back where a downgrade exists), code refuses
a newer schema, and task messages with and without a version both run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, MetaData, create_engine, func, select, text

from app.cli import main
from app.db.migrate import alembic_config


def _value(column):
    if column.foreign_keys or isinstance(column.type, Integer):
        return 1
    if isinstance(column.type, JSON):
        return []
    if isinstance(column.type, Boolean):
        return False
    if isinstance(column.type, Float):
        return 1.0
    if isinstance(column.type, DateTime):
        return datetime(2026, 1, 1, tzinfo=UTC)
    return "x"


def _rows(engine) -> dict[str, list[dict]]:
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        return {
            t.name: [dict(r._mapping) for r in connection.execute(select(t))]
            for t in meta.sorted_tables
            if t.name != "alembic_version"
        }


def _counts(engine) -> dict[str, int]:
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        return {
            t.name: connection.execute(select(func.count()).select_from(t)).scalar()
            for t in meta.sorted_tables
            if t.name != "alembic_version"
        }


def test_migrations_keep_rows_step_by_step_up_and_down(settings_env):
    url = f"sqlite:///{settings_env / 'upgrade.sqlite'}"
    settings_env.mkdir(parents=True, exist_ok=True)
    config = alembic_config(url)
    scripts = ScriptDirectory.from_config(config)
    steps = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    command.upgrade(config, steps[0])
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as connection:  # one row in every table of the first schema
        for table in meta.sorted_tables:
            if table.name != "alembic_version":
                connection.execute(table.insert().values({c.name: _value(c) for c in table.columns}))
    first = _counts(engine)
    first_rows = _rows(engine)
    assert first and all(first.values())
    for revision in steps[1:]:
        command.upgrade(config, revision)
        counts = _counts(engine)
        # nothing lost on the way up (a table a migration replaces by design, e.g. 0003's codecs, may go)
        assert {t: counts[t] for t in first if t in counts} == {t: first[t] for t in first if t in counts}, revision
    kept = {t: n for t, n in first.items() if t in _counts(engine)}  # at head
    at_head = _rows(engine)
    for table, rows in first_rows.items():  # the values written at the first schema read the same at head
        for old, new in zip(rows, at_head.get(table, rows)):
            assert {k: new[k] for k in old if k in new} == {k: v for k, v in old.items() if k in new}, table
    for revision in reversed(steps[:-1]):
        command.downgrade(config, revision)
        counts = _counts(engine)
        assert {t: counts[t] for t in kept if t in counts} == {t: kept[t] for t in kept if t in counts}, revision
    assert set(_counts(engine)) == set(first)  # back at the first schema, every table is there again
    engine.dispose()


def test_server_and_worker_refuse_a_newer_schema(api, settings_env, capsys):
    from app.db.session import session_scope

    with session_scope() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    assert main(["worker"]) == 2
    assert "newer than this licbench" in capsys.readouterr().err
    assert main(["db", "upgrade"]) == 2
    from fastapi.testclient import TestClient

    from app.db.migrate import SchemaTooNew
    from app.main import create_app

    with pytest.raises(SchemaTooNew, match="schema revision 9999, newer than this licbench"):
        with TestClient(create_app()):
            pass


def test_task_messages_without_and_with_a_version_run(api):
    from tests.support.benchmarks import upload_set
    from workers.tasks import run_task

    image = upload_set(api, "messages", sizes=((32, 40),))["images"][0]
    jobs = []
    for quality in (30, 70):
        created = api.post(
            "/api/v1/jobs",
            json={
                "image_set_id": image["image_set_id"]
                if "image_set_id" in image
                else api.get("/api/v1/image-sets").json()[0]["id"],
                "codecs": [{"name": "jpeg", "rate_points": [quality]}],
                "metrics": ["psnr"],
            },
        )
        jobs.append(created.json()["id"])
    run_task.run(jobs[0], image["id"], "jpeg", [30.0])  # today's format: no version field
    run_task.run(jobs[1], image["id"], "jpeg", [70.0], message_version=2)
    for job_id in jobs:
        assert api.get(f"/api/v1/jobs/{job_id}").json()["status"] == "succeeded"
    with pytest.raises(ValueError, match="newer than this worker"):
        run_task.run(jobs[1], image["id"], "jpeg", [70.0], message_version=99)
