"""IQA data sets: data sets, reference and distorted images, scores

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 00:00:00

Reserved in the revision chain (0003 codec catalogue, 0004 vif -> vifp, 0005 studies,
0006 IQA data sets) so that parallel work keeps one linear history; filled by its owner.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "iqa_datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("layout", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("higher_is_better", sa.Boolean(), nullable=False),
        sa.Column("n_references", sa.Integer(), nullable=False),
        sa.Column("n_distorted", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("triplets", sa.JSON(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("files_key", sa.String(length=500), nullable=False),
        _created_at(),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_iqa_datasets_status", "iqa_datasets", ["status"])
    op.create_table(
        "iqa_dataset_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=500), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("distortion", sa.String(length=100), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("scored", sa.Boolean(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("metric_notes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["iqa_datasets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset_id", "path", "reference", name="uq_dataset_image"),
    )
    op.create_index("ix_iqa_dataset_images_dataset_id", "iqa_dataset_images", ["dataset_id"])
    op.create_table(
        "study_crop_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("condition_id", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Boolean(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("metric_notes", sa.JSON(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["condition_id"], ["study_conditions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("condition_id", name="uq_crop_score_condition"),
    )
    op.create_index("ix_study_crop_scores_study_id", "study_crop_scores", ["study_id"])
    op.create_table(
        "gmad_studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.JSON(), nullable=False),
        _created_at(),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id"),
    )
    op.create_index("ix_gmad_studies_job_id", "gmad_studies", ["job_id"])
    op.create_table(
        "analysis_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "source_id", "key", name="uq_analysis_report"),
    )


def downgrade() -> None:
    op.drop_table("analysis_reports")
    op.drop_index("ix_gmad_studies_job_id", table_name="gmad_studies")
    op.drop_table("gmad_studies")
    op.drop_index("ix_study_crop_scores_study_id", table_name="study_crop_scores")
    op.drop_table("study_crop_scores")
    op.drop_index("ix_iqa_dataset_images_dataset_id", table_name="iqa_dataset_images")
    op.drop_table("iqa_dataset_images")
    op.drop_index("ix_iqa_datasets_status", table_name="iqa_datasets")
    op.drop_table("iqa_datasets")
