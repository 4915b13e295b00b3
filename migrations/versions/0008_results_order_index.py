"""results: one index in the order result pages are read

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 01:30:00

``GET /api/v1/jobs/{id}/results`` pages a job's rows ordered by codec, rate point, image (then id). With only
``ix_results_job_id`` and the unique ``(job_id, image_id, codec, rate_point)`` key, every page sorts all of the
job's rows first (100,000 rows on benchmarks/api.py); ``ix_results_job_order`` lets both SQLite and PostgreSQL
walk the rows of one job already in that order and stop after the page.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_results_job_order", "results", ["job_id", "codec", "rate_point", "image_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_results_job_order", table_name="results")
