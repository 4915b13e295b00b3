"""RD points aggregated in the database: mean bpp and mean metric per (codec, rate point), one GROUP BY.

Same numbers as ``analysis.rd.average_rd_points`` (CompressAI's ``eval_model`` averaging: arithmetic mean over
images of bpp and of each metric at one rate point), computed by the database over the rows of one job or of
any selection of result ids, so a 100,000-row job never loads its rows into Python. A metric's value is read
from the ``results.metrics`` JSON with the dialect's own operator (SQLite ``->>``, PostgreSQL ``->>`` cast to
double precision); JSON null (the metric did not apply) is left out of that metric's mean and count, as
``average_rd_points`` leaves out missing values.

Answers of finished jobs are kept in a small in-process cache keyed by the job (or the image set's succeeded
jobs), its result count and its highest result id, so a read after the first costs one indexed MAX.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Float, Select, String, and_, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from analysis.rd import RDCurve, RDPoint
from app.db.tables import Result

T = TypeVar("T")

CACHE_ENTRIES = 256


class metric_value(FunctionElement):
    """``metric_value(results.metrics, name)``: the metric's stored value as a float (NULL where the metric is
    null or absent). ``name`` is a bound parameter: a plain JSON object key on every dialect."""

    type = Float()
    inherit_cache = True
    name = "metric_value"


@compiles(metric_value)
def _metric_value_default(element, compiler, **kw) -> str:
    column, key = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(JSON_EXTRACT({column}, '$.' || {key}) AS FLOAT)"


@compiles(metric_value, "sqlite")
def _metric_value_sqlite(element, compiler, **kw) -> str:
    column, key = (compiler.process(c, **kw) for c in element.clauses)
    if sqlite3.sqlite_version_info < (3, 38):
        return f"JSON_EXTRACT({column}, '$.' || {key})"
    # ``->>`` (SQLite >= 3.38) gives the SQL REAL (NULL for JSON null) and is faster than json_extract.
    return f"({column} ->> {key})"


@compiles(metric_value, "postgresql")
def _metric_value_postgresql(element, compiler, **kw) -> str:
    column, key = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(({column} ->> {key}) AS DOUBLE PRECISION)"


def value_of(metric: str) -> ColumnElement[float]:
    """SQL expression: the stored value of ``metric`` of a result row (NULL where not applicable)."""
    return metric_value(Result.metrics, literal(metric, String()))


def grouped_points(
    where: Sequence[ColumnElement[bool]], metrics: Sequence[str], *, require: str | None = None, per_image: bool = False
) -> Select:
    """One GROUP BY over the selected rows: per (codec, rate point[, image]) the row count, the sum of bpp and,
    per metric, the sum and count of its non-null values. Sums (not means) so groups can be merged exactly
    the way ``average_rd_points`` would average them; ``require`` keeps only rows that have that metric."""
    keys = [Result.codec, Result.rate_point] + ([Result.image_id] if per_image else [])
    columns: list[Any] = [*keys, func.count(), func.sum(Result.bpp)]
    for metric in metrics:
        value = value_of(metric)
        columns += [func.sum(value), func.count(value)]
    conditions = list(where) + ([value_of(require).is_not(None)] if require else [])
    return select(*columns).where(and_(*conditions)).group_by(*keys)


def curves_from_rows(rows, metrics: Sequence[str], *, per_image: bool = False) -> dict[Any, dict[str, RDCurve]]:
    """RD curves from the rows of :func:`grouped_points`: {image id or None: {codec: RDCurve}}, points sorted
    by (bpp, rate point) and codecs by name, exactly as ``average_rd_points`` returns them."""
    points: dict[Any, dict[str, list[RDPoint]]] = {}
    width = 3 if per_image else 2
    for row in rows:
        codec, rate_point = str(row[0]), float(row[1])
        image = row[2] if per_image else None
        count, bpp_sum = int(row[width]), float(row[width + 1])
        means, counts = {}, {}
        for i, metric in enumerate(metrics):
            total, n = row[width + 2 + 2 * i], int(row[width + 3 + 2 * i])
            if n:
                means[metric], counts[metric] = float(total) / n, n
        points.setdefault(image, {}).setdefault(codec, []).append(
            RDPoint(rate_point=rate_point, bpp=bpp_sum / count, metrics=means, n_images=count, metric_counts=counts)
        )
    return {
        image: {
            codec: RDCurve(codec, sorted(found, key=lambda p: (p.bpp, p.rate_point)))
            for codec, found in sorted(by_codec.items())
        }
        for image, by_codec in points.items()
    }


class AggregateCache:
    """A bounded, thread-safe LRU of computed aggregates, keyed by what was asked and the rows' fingerprint."""

    def __init__(self, entries: int = CACHE_ENTRIES):
        self.entries = entries
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.entries:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


cache = AggregateCache()
