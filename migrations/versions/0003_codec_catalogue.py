"""codec catalogue (CodecRow) dropped or made real

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 00:00:00

Reserved in the revision chain (0003 codec catalogue, 0004 vif -> vifp, 0005 studies,
0006 IQA data sets) so that parallel work keeps one linear history; filled by its owner.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
