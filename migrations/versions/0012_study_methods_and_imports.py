"""studies: imported studies (owner, visibility, read-only answers), triplet method (boost, longer choices),
condition label / group / reference, worker-computed scales (issue 29)

Revision ID: 0012_study_imports
Revises: 0011_aic4
Create Date: 2026-12-07 17:00:00

An imported study has no job, sessions or images: ``studies.job_id`` and the image-bound columns of
``study_conditions`` become nullable (native rows keep them filled), its answers go to the new
``study_answers`` table, and its scale is computed by a worker (``scale_queued_version``/``_at`` record
what was sent). ``study_trials.choice`` widens to hold a triplet's ``left``/``right``/``not_sure``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_study_imports"
down_revision = "0011_aic4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("studies") as batch:
        batch.alter_column("job_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("imported", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("visibility", sa.String(10), nullable=True))
        batch.add_column(sa.Column("boost", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("scale_queued_version", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("scale_queued_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key("fk_studies_owner_id_users", "users", ["owner_id"], ["id"])
    with op.batch_alter_table("study_conditions") as batch:
        batch.alter_column("image_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("codec", existing_type=sa.String(100), nullable=True)
        batch.alter_column("image_key", existing_type=sa.String(500), nullable=True)
        batch.alter_column("crop_box", existing_type=sa.JSON(), nullable=True)
        batch.add_column(sa.Column("label", sa.String(300), nullable=True))
        batch.add_column(sa.Column("group_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("is_reference", sa.Boolean(), nullable=True))
    with op.batch_alter_table("study_trials") as batch:
        batch.alter_column("choice", existing_type=sa.String(1), type_=sa.String(10), existing_nullable=True)
        batch.add_column(sa.Column("boost", sa.JSON(), nullable=True))
    op.create_table(
        "study_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("observer", sa.String(200), nullable=False),
        sa.Column("condition_a_id", sa.Integer(), nullable=False),
        sa.Column("condition_b_id", sa.Integer(), nullable=True),
        sa.Column("pivot_id", sa.Integer(), nullable=True),
        sa.Column("batch", sa.String(200), nullable=True),
        sa.Column("choice", sa.String(10), nullable=False),
        sa.Column("control", sa.String(20), nullable=False),
        sa.Column("boosted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["condition_a_id"], ["study_conditions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["condition_b_id"], ["study_conditions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pivot_id"], ["study_conditions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_study_answers_study_id", "study_answers", ["study_id"])


def downgrade() -> None:
    op.drop_index("ix_study_answers_study_id", table_name="study_answers")
    op.drop_table("study_answers")
    # imported and triplet studies cannot exist in the older schema
    op.execute("DELETE FROM studies WHERE imported OR method = 'triplet'")
    with op.batch_alter_table("study_trials") as batch:
        batch.drop_column("boost")
        batch.alter_column("choice", existing_type=sa.String(10), type_=sa.String(1), existing_nullable=True)
    with op.batch_alter_table("study_conditions") as batch:
        batch.drop_column("is_reference")
        batch.drop_column("group_name")
        batch.drop_column("label")
        batch.alter_column("crop_box", existing_type=sa.JSON(), nullable=False)
        batch.alter_column("image_key", existing_type=sa.String(500), nullable=False)
        batch.alter_column("codec", existing_type=sa.String(100), nullable=False)
        batch.alter_column("image_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("studies") as batch:
        batch.drop_constraint("fk_studies_owner_id_users", type_="foreignkey")
        batch.drop_column("scale_queued_at")
        batch.drop_column("scale_queued_version")
        batch.drop_column("boost")
        batch.drop_column("visibility")
        batch.drop_column("owner_id")
        batch.drop_column("imported")
        batch.alter_column("job_id", existing_type=sa.Integer(), nullable=False)
