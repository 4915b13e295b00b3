"""iqa_dataset_images: score_ci_low / score_ci_high, the shipped score's 95% interval (aic4 layout)

Revision ID: 0011_aic4
Revises: 0010
Create Date: 2026-12-07 16:50:00

The JPEG AIC-4 layout (scores only) ships each item's JND with its 95% interval; the report card uses it
to find pairs whose human order is confident. Other layouts leave both null.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_aic4"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("iqa_dataset_images") as batch:
        batch.add_column(sa.Column("score_ci_low", sa.Float(), nullable=True))
        batch.add_column(sa.Column("score_ci_high", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("iqa_dataset_images") as batch:
        batch.drop_column("score_ci_high")
        batch.drop_column("score_ci_low")
