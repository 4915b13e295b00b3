"""results: (job_id, id) index for the newest-row check of cached RD/BD-rate/leaderboard answers

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 03:15:00

RD curves, BD-rates and the leaderboard are aggregated in SQL and, once a job has finished, kept in memory
under the job's result count and its highest result id (``app/services/rd_points.py``). ``MAX(id) WHERE job_id
= ?`` is one index probe on ``ix_results_job_latest`` on PostgreSQL (``ix_results_job_id`` alone makes it visit
every row of the job: 100,000 on benchmarks/api.py); SQLite gets the same probe.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_results_job_latest", "results", ["job_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_results_job_latest", table_name="results")
