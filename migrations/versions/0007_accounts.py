"""accounts: users, owners of tokens, image sets and jobs, visibility

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 00:00:00

Reserved in the revision chain after 0006; filled by its owner.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
