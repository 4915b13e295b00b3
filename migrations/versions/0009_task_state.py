"""tasks: one state row per task (image x codec covering its rate points), issue 13

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 03:00:00

``tasks`` holds queued/running/done/failed, attempts, the claiming worker and timestamps for every task, so job
progress and completion read it instead of counting result rows, and the sweep (``engine/task_state.py``)
can re-queue tasks whose worker vanished. Jobs stored before this revision get their rows here: a task is
``done`` when every rate point has a result, ``failed`` when every rate point has a result or a recorded
failure and at least one failed, else ``queued`` (the sweep sends queued tasks of active jobs again).
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_tasks = sa.table(
    "tasks",
    sa.column("job_id", sa.Integer),
    sa.column("image_id", sa.Integer),
    sa.column("codec", sa.String),
    sa.column("rate_points", sa.JSON),
    sa.column("state", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("queued_at", sa.DateTime(timezone=True)),
    sa.column("started_at", sa.DateTime(timezone=True)),
    sa.column("finished_at", sa.DateTime(timezone=True)),
    sa.column("error", sa.Text),
)
_jobs = sa.table(
    "jobs",
    sa.column("id", sa.Integer),
    sa.column("image_set_id", sa.Integer),
    sa.column("codecs", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("started_at", sa.DateTime(timezone=True)),
    sa.column("finished_at", sa.DateTime(timezone=True)),
)
_images = sa.table("images", sa.column("id", sa.Integer), sa.column("image_set_id", sa.Integer))


def _finished(bind, table: str) -> set[tuple[int, int, str, float]]:
    rows = bind.execute(sa.text(f"SELECT job_id, image_id, codec, rate_point FROM {table}"))
    return {(j, i, c, float(r)) for j, i, c, r in rows}


def _backfill() -> None:
    bind = op.get_bind()
    results, failures = _finished(bind, "results"), _finished(bind, "task_failures")
    images: dict[int, list[int]] = {}
    for image_id, set_id in bind.execute(sa.select(_images.c.id, _images.c.image_set_id).order_by(_images.c.id)):
        images.setdefault(set_id, []).append(image_id)
    now = datetime.now(UTC)
    batch: list[dict] = []
    for job_id, set_id, codecs, created, started, finished in bind.execute(
        sa.select(
            _jobs.c.id,
            _jobs.c.image_set_id,
            _jobs.c.codecs,
            _jobs.c.created_at,
            _jobs.c.started_at,
            _jobs.c.finished_at,
        ).order_by(_jobs.c.id)
    ):
        for image_id in images.get(set_id, []):
            for codec in codecs or []:
                points = [float(p) for p in codec.get("rate_points", [])]
                keys = [(job_id, image_id, codec["name"], p) for p in points]
                if all(k in results for k in keys):
                    state = "done"
                elif all(k in results or k in failures for k in keys):
                    state = "failed"
                else:
                    state = "queued"
                batch.append(
                    {
                        "job_id": job_id,
                        "image_id": image_id,
                        "codec": codec["name"],
                        "rate_points": points,
                        "state": state,
                        "attempts": 0 if state == "queued" else 1,
                        "queued_at": created or now,
                        "started_at": None if state == "queued" else started,
                        "finished_at": None if state == "queued" else (finished or started or created),
                        "error": "a rate point failed (task_failures)" if state == "failed" else None,
                    }
                )
                if len(batch) >= 5000:
                    op.bulk_insert(_tasks, batch)
                    batch = []
    if batch:
        op.bulk_insert(_tasks, batch)


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("image_id", sa.Integer(), sa.ForeignKey("images.id"), nullable=False),
        sa.Column("codec", sa.String(100), nullable=False),
        sa.Column("rate_points", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("job_id", "image_id", "codec", name="uq_task"),
    )
    op.create_index("ix_tasks_job_state", "tasks", ["job_id", "state"])
    op.create_index("ix_tasks_state_queued_at", "tasks", ["state", "queued_at"])
    op.create_index("ix_tasks_started_at", "tasks", ["started_at"])
    _backfill()


def downgrade() -> None:
    op.drop_index("ix_tasks_started_at", table_name="tasks")
    op.drop_index("ix_tasks_state_queued_at", table_name="tasks")
    op.drop_index("ix_tasks_job_state", table_name="tasks")
    op.drop_table("tasks")
