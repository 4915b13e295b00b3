"""human studies: studies, conditions, sessions, trials

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 00:00:00

Reserved in the revision chain (0003 codec catalogue, 0004 vif -> vifp, 0005 studies,
0006 IQA data sets) so that parallel work keeps one linear history; filled by its owner.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("sampling", sa.String(length=20), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("crop", sa.Integer(), nullable=True),
        sa.Column("trials_per_session", sa.Integer(), nullable=False),
        sa.Column("min_viewing_ms", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answers_version", sa.Integer(), nullable=False),
        sa.Column("scale_version", sa.Integer(), nullable=False),
        sa.Column("scale_cache", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_studies_job_id", "studies", ["job_id"])
    op.create_table(
        "study_conditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=True),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("codec", sa.String(length=100), nullable=False),
        sa.Column("rate_point", sa.Float(), nullable=True),
        sa.Column("bpp", sa.Float(), nullable=True),
        sa.Column("image_key", sa.String(length=500), nullable=False),
        sa.Column("crop_box", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["result_id"], ["results.id"]),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_study_conditions_study_id", "study_conditions", ["study_id"])
    op.create_table(
        "study_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("participant", sa.String(length=200), nullable=True),
        sa.Column("display", sa.JSON(), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_study_sessions_study_id", "study_sessions", ["study_id"])
    op.create_table(
        "study_trials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("control", sa.String(length=20), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("condition_a_id", sa.Integer(), nullable=False),
        sa.Column("condition_b_id", sa.Integer(), nullable=True),
        sa.Column("repeat_of_trial_id", sa.Integer(), nullable=True),
        sa.Column("choice", sa.String(length=1), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("response_ms", sa.Integer(), nullable=True),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["study_sessions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["image_id"], ["images.id"]),
        sa.ForeignKeyConstraint(["condition_a_id"], ["study_conditions.id"]),
        sa.ForeignKeyConstraint(["condition_b_id"], ["study_conditions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "position", name="uq_trial_position"),
    )
    op.create_index("ix_study_trials_study_id", "study_trials", ["study_id"])
    op.create_index("ix_study_trials_session_id", "study_trials", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_study_trials_session_id", table_name="study_trials")
    op.drop_index("ix_study_trials_study_id", table_name="study_trials")
    op.drop_table("study_trials")
    op.drop_index("ix_study_sessions_study_id", table_name="study_sessions")
    op.drop_table("study_sessions")
    op.drop_index("ix_study_conditions_study_id", table_name="study_conditions")
    op.drop_table("study_conditions")
    op.drop_index("ix_studies_job_id", table_name="studies")
    op.drop_table("studies")
