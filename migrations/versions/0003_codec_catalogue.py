"""drop the codecs table (CodecRow): written on every GET /api/v1/codecs, never read

The codec catalogue is built from the registries on each request (``app.services.catalog``); the table only
mirrored it. Downgrade recreates the empty table with the 0001 schema.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("codecs")


def downgrade() -> None:
    op.create_table(
        "codecs",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rate_points", sa.JSON(), nullable=False),
        sa.Column("rate_min", sa.Float(), nullable=False),
        sa.Column("rate_max", sa.Float(), nullable=False),
        sa.Column("rate_integer", sa.Boolean(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
