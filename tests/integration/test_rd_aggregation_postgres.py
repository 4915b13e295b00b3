"""On real PostgreSQL the SQL aggregation (``->>`` cast to double precision, json_agg/json_build_object pages) gives
the same answers as the Python aggregation of every row and as the response model, like on SQLite
(tests/api/test_rd_aggregation.py), and migration 0010's index serves the newest-row check."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from analysis.bd_rate import compare_to_anchor
from analysis.compressai_json import to_compressai_json
from analysis.rd import average_rd_points
from app.api.schemas import ResultOut
from app.db.migrate import alembic_config
from app.services.jobs import leaderboard, rd_points, results
from tests.support.results import POINTS, assert_close, hand_made_rows, insert_image_set, insert_job, python_rd_curves


@pytest.fixture(scope="module")
def postgres_job(real_servers):
    database_url, _ = real_servers
    command.upgrade(alembic_config(database_url), "head")
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        set_id, images = insert_image_set(connection, None, 2, "postgres hand made")
        job_id = insert_job(
            connection,
            None,
            set_id,
            {c: POINTS for c in ("jpeg", "webp", "avif")},
            ["psnr", "ssim"],
            hand_made_rows(images),
        )
        connection.execute(
            sa.text(
                "UPDATE results SET metric_notes = 'null' WHERE id = (SELECT min(id) FROM results WHERE job_id = :job)"
            ),
            {"job": job_id},
        )
    rd_points.cache.clear()
    yield engine, set_id, job_id, images
    engine.dispose()


def test_postgres_answers_equal_the_python_aggregation(postgres_job):
    engine, set_id, job_id, images = postgres_job
    with Session(engine) as session:
        orm_rows = results.list_results(session, job_id)
        expected_page = [ResultOut.model_validate(r).model_dump(mode="json") for r in orm_rows]
        for limit, offset in ((1000, 0), (7, 3), (5, 30)):
            page = json.loads(results.results_page_json(session, job_id, limit, offset))
            assert [list(row) for row in page] == [list(row) for row in expected_page[offset : offset + limit]]
            assert page == expected_page[offset : offset + limit]  # the very same doubles
        assert results.count_results(session, job_id) == 30
        rows = [ResultOut.model_validate(r).model_dump() for r in orm_rows]
        for metric in ("psnr", "ssim"):
            for per_image in (False, True):
                assert_close(
                    results.rd_curves(session, job_id, metric, per_image)["curves"],
                    python_rd_curves(rows, metric, per_image),
                )
            with_metric = [r for r in rows if r["metrics"].get(metric) is not None]
            curves = {codec: curve.xy(metric) for codec, curve in average_rd_points(with_metric).items()}
            got = results.bd_rates(session, job_id, "jpeg", metric)["rows"]
            assert_close(
                [[c["codec"], c["bd_rate"]["value"], c["bd_quality"]["value"], c["bd_rate"]["reason"]] for c in got],
                [
                    [c.codec, c.bd_rate.value, c.bd_quality.value, c.bd_rate.reason]
                    for c in compare_to_anchor(curves, "jpeg", metric, True)
                ],
            )
        documents = results.compressai_json(session, job_id)
        for codec, curve in average_rd_points(rows).items():
            assert_close(documents[codec]["results"], to_compressai_json(curve)["results"], codec)
        board = {row["codec"]: row for row in leaderboard.leaderboard(session, set_id, "psnr", "jpeg")["rows"]}
        assert board["jpeg"]["bd_rate"] == 0.0 and board["webp"]["bd_rate"] is not None
        assert board["webp"]["device"] == "cpu, cuda" and board["webp"]["images"] == 2
        assert sorted(leaderboard.codec_curves(session, set_id, "webp")["metrics"]) == ["psnr", "ssim"]


def test_the_newest_row_check_is_one_index_probe_on_postgres(postgres_job):
    engine, _, job_id, _ = postgres_job
    with engine.connect() as connection:
        connection.execute(sa.text("SET enable_seqscan = off"))  # 30 rows: make the planner show its index choice
        plan = "\n".join(
            row[0]
            for row in connection.execute(
                sa.text("EXPLAIN SELECT max(id) FROM results WHERE job_id = :job"), {"job": job_id}
            )
        )
    assert "ix_results_job_latest" in plan, plan
