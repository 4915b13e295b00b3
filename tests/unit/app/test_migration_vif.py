"""Migration 0004: rows written at revision 0003 with the old name ``vif`` (then VIFp) read ``vifp``
after the upgrade, values unchanged; downgrade gives them their old name back."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command

from app.db.migrate import alembic_config

NOW = "2026-11-27 00:00:00"


def _insert_rows_at_0003(engine: sa.Engine) -> None:
    with engine.begin() as db:
        db.execute(sa.text("INSERT INTO image_sets (id, name, created_at) VALUES (1, 'set', :t)"), {"t": NOW})
        db.execute(
            sa.text(
                "INSERT INTO images (id, image_set_id, filename, content_hash, width, height, original_format,"
                " original_mode, conversion) VALUES (1, 1, 'a.png', 'h', 64, 64, 'PNG', 'RGB', '')"
            )
        )
        for job_id, names in ((1, ["psnr", "vif", "ms-ssim"]), (2, ["psnr"])):
            db.execute(
                sa.text(
                    "INSERT INTO jobs (id, image_set_id, codecs, metrics, status, done, total, created_at)"
                    " VALUES (:id, 1, :codecs, :metrics, 'done', 1, 1, :t)"
                ),
                {
                    "id": job_id,
                    "codecs": json.dumps([{"name": "jpeg", "rate_points": [50]}]),
                    "metrics": json.dumps(names),
                    "t": NOW,
                },
            )
        rows = [
            (1, 1, {"psnr": 30.5, "vif": 0.4321, "ms-ssim": 0.97}, {}),
            (2, 1, {"psnr": 31.0, "vif": None}, {"vif": "vif needs images of at least 41x41 pixels (got 20x20)"}),
            (3, 2, {"psnr": 29.0}, {}),
        ]
        for result_id, job_id, metrics, notes in rows:
            db.execute(
                sa.text(
                    "INSERT INTO results (id, job_id, image_id, codec, rate_point, bytes, bpp, encode_seconds,"
                    " decode_seconds, metrics_seconds, metrics, metric_notes, reconstruction_path, device, created_at)"
                    " VALUES (:id, :job, 1, 'jpeg', :rp, 100, 0.5, 0.1, 0.1, 0.1, :m, :n, 'r.png', 'cpu', :t)"
                ),
                {
                    "id": result_id,
                    "job": job_id,
                    "rp": float(result_id),
                    "m": json.dumps(metrics),
                    "n": json.dumps(notes),
                    "t": NOW,
                },
            )


def _stored(engine: sa.Engine) -> tuple[dict, dict]:
    with engine.connect() as db:
        jobs = {i: json.loads(m) for i, m in db.execute(sa.text("SELECT id, metrics FROM jobs"))}
        results = {
            i: (json.loads(m), json.loads(n))
            for i, m, n in db.execute(sa.text("SELECT id, metrics, metric_notes FROM results"))
        }
    return jobs, results


def test_upgrade_renames_stored_vif_to_vifp_and_downgrade_restores_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = alembic_config(url)
    command.upgrade(config, "0003")
    engine = sa.create_engine(url)
    _insert_rows_at_0003(engine)
    before = _stored(engine)

    command.upgrade(config, "0004")
    jobs, results = _stored(engine)
    assert jobs == {1: ["psnr", "vifp", "ms-ssim"], 2: ["psnr"]}
    assert results[1] == ({"psnr": 30.5, "vifp": 0.4321, "ms-ssim": 0.97}, {})
    assert list(results[1][0]) == ["psnr", "vifp", "ms-ssim"]  # column order of CSV exports kept
    assert results[2] == (
        {"psnr": 31.0, "vifp": None},
        {"vifp": "vifp needs images of at least 41x41 pixels (got 20x20)"},
    )
    assert results[3] == ({"psnr": 29.0}, {})

    # A wavelet-domain vif stored after the upgrade has no name at 0003: downgrade drops it.
    with engine.begin() as db:
        db.execute(
            sa.text("UPDATE results SET metrics = :m WHERE id = 1"),
            {"m": json.dumps({"psnr": 30.5, "vifp": 0.4321, "ms-ssim": 0.97, "vif": 0.2})},
        )
        db.execute(
            sa.text("UPDATE jobs SET metrics = :m WHERE id = 1"), {"m": json.dumps(["psnr", "vifp", "ms-ssim", "vif"])}
        )
    command.downgrade(config, "0003")
    assert _stored(engine) == before
    engine.dispose()
