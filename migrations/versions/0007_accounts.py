"""accounts: users, owners of tokens, image sets and jobs, visibility

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 00:00:00

Users (argon2 password hashes, role admin|member); API tokens, image sets, jobs and imported reference curves
get an owner; image sets a visibility (``private`` by default). Rows that exist already are given to the first
admin, created here (named ``admin``, with an unusable password hash: ``licbench user reset-password admin``
sets one) when there is something to own and no admin yet. The demo image set becomes public. Worker
heartbeats (``worker_heartbeats``) tell the health endpoint whether a worker is alive.
"""

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DEMO_SET_NAME = "demo: scikit-image photos"  # app.services.demo.DEMO_SET_NAME at the time of this revision
OWNED = ("api_tokens", "image_sets", "jobs", "reference_curves")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "worker_heartbeats",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("queues", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_api_tokens_user_id", "users", ["user_id"], ["id"])
        batch.create_index("ix_api_tokens_user_id", ["user_id"])
    with op.batch_alter_table("image_sets") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("visibility", sa.String(length=10), nullable=False, server_default="private"))
        batch.create_foreign_key("fk_image_sets_owner_id", "users", ["owner_id"], ["id"])
        batch.create_index("ix_image_sets_owner_id", ["owner_id"])
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_jobs_owner_id", "users", ["owner_id"], ["id"])
        batch.create_index("ix_jobs_owner_id", ["owner_id"])
    with op.batch_alter_table("reference_curves") as batch:
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_reference_curves_owner_id", "users", ["owner_id"], ["id"])

    bind = op.get_bind()
    unowned = sum(bind.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar() or 0 for table in OWNED)
    if unowned:
        admin = bind.execute(sa.text("SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1")).scalar()
        if admin is None:
            # "!" + random: argon2 never produces it, so no password matches until one is set.
            bind.execute(
                sa.text(
                    "INSERT INTO users (name, password_hash, role, created_at) VALUES ('admin', :hash, 'admin', :now)"
                ),
                {"hash": "!" + secrets.token_hex(16), "now": datetime.now(UTC)},
            )
            admin = bind.execute(sa.text("SELECT id FROM users WHERE name = 'admin'")).scalar()
        bind.execute(sa.text("UPDATE api_tokens SET user_id = :admin WHERE user_id IS NULL"), {"admin": admin})
        for table in ("image_sets", "jobs", "reference_curves"):
            bind.execute(sa.text(f"UPDATE {table} SET owner_id = :admin WHERE owner_id IS NULL"), {"admin": admin})
    bind.execute(sa.text("UPDATE image_sets SET visibility = 'public' WHERE name = :demo"), {"demo": DEMO_SET_NAME})


def downgrade() -> None:
    with op.batch_alter_table("reference_curves") as batch:
        batch.drop_constraint("fk_reference_curves_owner_id", type_="foreignkey")
        batch.drop_column("owner_id")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_owner_id")
        batch.drop_constraint("fk_jobs_owner_id", type_="foreignkey")
        batch.drop_column("owner_id")
    with op.batch_alter_table("image_sets") as batch:
        batch.drop_index("ix_image_sets_owner_id")
        batch.drop_constraint("fk_image_sets_owner_id", type_="foreignkey")
        batch.drop_column("visibility")
        batch.drop_column("owner_id")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_index("ix_api_tokens_user_id")
        batch.drop_constraint("fk_api_tokens_user_id", type_="foreignkey")
        batch.drop_column("revoked_at")
        batch.drop_column("user_id")
    op.drop_table("worker_heartbeats")
    op.drop_table("users")
