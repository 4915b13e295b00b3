"""file hashes: results.reconstruction_sha256, study_conditions.image_sha256, iqa_datasets.file_hashes

Revision ID: 0013_file_sha256
Revises: 0012_study_imports
Create Date: 2026-12-07 16:45:00

``licbench verify`` (issue 32) checks every stored file against a hash recorded when it was written. Images
(``content_hash``) and submitted checkpoints (``checkpoint_sha256``) had one already; reconstructions, study
crops and the files of an imported IQA data set get one here. The columns are nullable and backfilled lazily:
rows written before this revision get their hash the first time ``licbench verify`` (or ``licbench backup``)
reads the file, because a migration must not depend on the data directory being present (a restore migrates a
database whose files are still staged elsewhere).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_file_sha256"
down_revision = "0012_study_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("reconstruction_sha256", sa.String(64), nullable=True))
    with op.batch_alter_table("study_conditions") as batch:
        batch.add_column(sa.Column("image_sha256", sa.String(64), nullable=True))
    with op.batch_alter_table("iqa_datasets") as batch:
        batch.add_column(sa.Column("file_hashes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("iqa_datasets") as batch:
        batch.drop_column("file_hashes")
    with op.batch_alter_table("study_conditions") as batch:
        batch.drop_column("image_sha256")
    with op.batch_alter_table("results") as batch:
        batch.drop_column("reconstruction_sha256")
