"""Migration 0009: jobs stored before the tasks table get one task row per image x codec: done when every rate
point has a result, failed when the rest failed, queued when a rate point is still missing; downgrade drops it."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command

from app.db.migrate import alembic_config

NOW = "2026-11-27 00:00:00"


def _insert_rows_at_0008(engine: sa.Engine) -> None:
    with engine.begin() as db:
        db.execute(sa.text("INSERT INTO image_sets (id, name, created_at) VALUES (1, 'set', :t)"), {"t": NOW})
        for image_id in (1, 2):
            db.execute(
                sa.text(
                    "INSERT INTO images (id, image_set_id, filename, content_hash, width, height, original_format,"
                    " original_mode, conversion) VALUES (:id, 1, 'a.png', 'h', 64, 64, 'PNG', 'RGB', '')"
                ),
                {"id": image_id},
            )
        db.execute(
            sa.text(
                "INSERT INTO jobs (id, image_set_id, codecs, metrics, status, done, total, created_at, started_at)"
                " VALUES (1, 1, :codecs, '[\"psnr\"]', 'running', 5, 6, :t, :t)"
            ),
            {
                "codecs": json.dumps(
                    [{"name": "jpeg", "rate_points": [10, 20]}, {"name": "webp", "rate_points": [30]}]
                ),
                "t": NOW,
            },
        )
        for row_id, (image_id, codec, rate_point) in enumerate(
            [(1, "jpeg", 10), (1, "jpeg", 20), (2, "jpeg", 10), (2, "webp", 30)], start=1
        ):
            db.execute(
                sa.text(
                    "INSERT INTO results (id, job_id, image_id, codec, rate_point, bytes, bpp, encode_seconds,"
                    " decode_seconds, metrics_seconds, metrics, metric_notes, reconstruction_path, device, created_at)"
                    " VALUES (:id, 1, :image, :codec, :rp, 100, 0.5, 0.1, 0.1, 0.1, '{}', '{}', 'r.png', 'cpu', :t)"
                ),
                {"id": row_id, "image": image_id, "codec": codec, "rp": rate_point, "t": NOW},
            )
        db.execute(
            sa.text(
                "INSERT INTO task_failures (job_id, image_id, codec, rate_point, error, created_at)"
                " VALUES (1, 2, 'jpeg', 20, 'boom', :t)"
            ),
            {"t": NOW},
        )


def test_upgrade_backfills_task_rows_and_downgrade_drops_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = alembic_config(url)
    command.upgrade(config, "0008")
    engine = sa.create_engine(url)
    _insert_rows_at_0008(engine)

    command.upgrade(config, "0009")
    with engine.connect() as db:
        rows = {
            (image, codec): (state, json.loads(points), attempts)
            for image, codec, state, points, attempts in db.execute(
                sa.text("SELECT image_id, codec, state, rate_points, attempts FROM tasks")
            )
        }
    assert rows == {
        (1, "jpeg"): ("done", [10.0, 20.0], 1),
        (2, "jpeg"): ("failed", [10.0, 20.0], 1),
        (1, "webp"): ("queued", [30.0], 0),
        (2, "webp"): ("done", [30.0], 1),
    }

    command.downgrade(config, "0008")
    assert "tasks" not in sa.inspect(engine).get_table_names()
