"""stored metric name vif renamed to vifp (pixel-domain VIF)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 00:00:00

Until this revision the metric called ``vif`` was the pixel-domain VIFp; from now on ``vif`` is the
wavelet-domain VIF of Sheikh and Bovik 2006 (the authors' vifvec.m) and VIFp is ``vifp``. So that no
stored number changes meaning silently, every place a metric name is stored is rewritten:

- ``results.metrics`` (name -> value) and ``results.metric_notes`` (name -> why null): key ``vif``
  becomes ``vifp``; a note's text naming ``vif`` says ``vifp``;
- ``jobs.metrics`` (the metric list a job asked for): ``vif`` becomes ``vifp``.

Downgrade renames ``vifp`` back to ``vif``. A wavelet-domain ``vif`` stored after the upgrade has no
name at revision 0003 (where ``vif`` meant VIFp), so downgrade drops it rather than let it pass for
VIFp. Data only: the schema is unchanged.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD, NEW = "vif", "vifp"
BATCH = 500

results = sa.table(
    "results", sa.column("id", sa.Integer), sa.column("metrics", sa.JSON), sa.column("metric_notes", sa.JSON)
)
jobs = sa.table("jobs", sa.column("id", sa.Integer), sa.column("metrics", sa.JSON))


def _rename_text(text: object, old: str, new: str) -> object:
    if not isinstance(text, str):
        return text
    return re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, text)


def _rename_keys(mapping: object, old: str, new: str, drop: str | None) -> object:
    """``mapping`` with key ``old`` renamed to ``new`` (key ``drop`` removed first); other keys keep order."""
    if not isinstance(mapping, dict):
        return mapping
    out = {}
    for key, value in mapping.items():
        if key == drop:
            continue
        out[new if key == old else key] = _rename_text(value, old, new)
    return out


def _rename_list(names: object, old: str, new: str, drop: str | None) -> object:
    if not isinstance(names, list):
        return names
    return [new if name == old else name for name in names if name != drop]


def _rewrite(old: str, new: str, drop: str | None) -> None:
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(results.c.id, results.c.metrics, results.c.metric_notes)
            .where(results.c.id > last_id)
            .order_by(results.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row_id, metrics, notes in rows:
            new_metrics = _rename_keys(metrics, old, new, drop)
            new_notes = _rename_keys(notes, old, new, drop)
            if (
                new_metrics != metrics
                or new_notes != notes
                or (isinstance(metrics, dict) and list(new_metrics) != list(metrics))
            ):
                connection.execute(
                    results.update().where(results.c.id == row_id).values(metrics=new_metrics, metric_notes=new_notes)
                )
        last_id = rows[-1][0]
    for job_id, names in connection.execute(sa.select(jobs.c.id, jobs.c.metrics)).all():
        renamed = _rename_list(names, old, new, drop)
        if renamed != names:
            connection.execute(jobs.update().where(jobs.c.id == job_id).values(metrics=renamed))


def upgrade() -> None:
    # Nothing stored at 0003 is called vifp yet; were it, the renamed VIFp value would replace it.
    _rewrite(OLD, NEW, drop=None)


def downgrade() -> None:
    # Drop the wavelet-domain vif (no name for it at 0003), then give VIFp its old name back.
    _rewrite(NEW, OLD, drop=OLD)
