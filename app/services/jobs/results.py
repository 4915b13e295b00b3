"""Read a job's results: rows, CSV export and RD curves."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from sqlalchemy import JSON, ColumnElement, Text, cast, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from analysis.bd_rate import compare_to_anchor
from analysis.compressai_json import to_compressai_json
from analysis.rd import RDCurve
from app.db.enums import JobStatus
from app.db.tables import Job, Result
from app.services.errors import Invalid, NotFound
from app.services.jobs import rd_points
from app.services.jobs.jobs import get_job
from metrics import registry as metric_registry

T = TypeVar("T")


def list_results(session: Session, job_id: int, limit: int | None = None, offset: int = 0) -> list[Result]:
    """A job's result rows ordered by codec, rate point, image (404 for an unknown job); ``limit``/``offset``
    select one page."""
    get_job(session, job_id)
    return list(
        session.scalars(
            select(Result)
            .where(Result.job_id == job_id)
            .order_by(Result.codec, Result.rate_point, Result.image_id, Result.id)
            .limit(limit)
            .offset(offset)
        )
    )


def count_results(session: Session, job_id: int) -> int:
    """How many result rows the job has; a finished job's count is kept with its other aggregates."""
    job = get_job(session, job_id)
    return _finished_job_cached(
        session,
        job,
        ("count",),
        lambda: session.scalar(select(func.count()).select_from(Result).where(Result.job_id == job_id)) or 0,
    )


# The fields of ``ResultOut`` (the REST answer) that are plain columns, in its order.
PAGE_COLUMNS = (
    "id",
    "image_id",
    "codec",
    "rate_point",
    "bytes",
    "bpp",
    "encode_seconds",
    "decode_seconds",
    "metrics_seconds",
)


def results_page_json(session: Session, job_id: int, limit: int, offset: int = 0) -> str:
    """One page of ``list_results`` as the JSON array of the REST answer (``ResultOut`` fields, same order),
    rendered by the database (SQLite ``json_group_array``/``json_object``, PostgreSQL ``json_agg``/
    ``json_build_object``): 1,000 rows cost one indexed read instead of 1,000 ORM objects and their validation.
    The stored ``metrics`` JSON is passed through as stored; every float reads back as exactly the stored
    double (SQLite: 17 significant digits, PostgreSQL: shortest exact)."""
    get_job(session, job_id)
    order = (Result.codec, Result.rate_point, Result.image_id, Result.id)
    page = select(Result).where(Result.job_id == job_id).order_by(*order).limit(limit).offset(offset).subquery()
    if session.get_bind().dialect.name == "postgresql":
        # (one annotation for both dialects' expressions: each branch builds different SQL element classes)
        notes: ColumnElement[Any] = cast(
            func.coalesce(func.nullif(cast(page.c.metric_notes, Text), "null"), "{}"), JSON
        )
        fields: list[ColumnElement[Any]] = [x for name in PAGE_COLUMNS for x in (literal(name), page.c[name])]
        row = func.json_build_object(
            *fields,
            literal("metrics"),
            page.c.metrics,
            literal("metric_notes"),
            notes,
            literal("device"),
            page.c.device,
        )
        array: ColumnElement[Any] = func.coalesce(
            cast(func.json_agg(aggregate_order_by(row, *(page.c[c.key] for c in order))), Text), "[]"
        )
    else:  # SQLite: rows reach the aggregate in the subquery's order
        notes = func.json(func.coalesce(func.nullif(page.c.metric_notes, "null"), "{}"))
        # json_object prints a REAL with 15 significant digits; 17 (``%!.17g``, kept verbatim through json())
        # give back exactly the stored double, as Python's float repr does.
        floats = {"rate_point", "bpp", "encode_seconds", "decode_seconds", "metrics_seconds"}
        fields = [
            x
            for name in PAGE_COLUMNS
            for x in (literal(name), func.json(func.printf("%!.17g", page.c[name])) if name in floats else page.c[name])
        ]
        row = func.json_object(
            *fields,
            literal("metrics"),
            func.json(page.c.metrics),
            literal("metric_notes"),
            notes,
            literal("device"),
            page.c.device,
        )
        array = func.json_group_array(row, type_=Text)
    return session.scalar(select(array)) or "[]"


def rd_row(r: Result) -> dict:
    """A result as the row ``analysis.rd``/the CSV export read (same fields as the REST answer)."""
    return {
        "id": r.id,
        "image_id": r.image_id,
        "codec": r.codec,
        "rate_point": r.rate_point,
        "bytes": r.bytes,
        "bpp": r.bpp,
        "encode_seconds": r.encode_seconds,
        "decode_seconds": r.decode_seconds,
        "metrics_seconds": r.metrics_seconds,
        "metrics": r.metrics,
        "metric_notes": r.metric_notes or {},
        "device": r.device,
    }


CSV_COLUMNS = ["id", "image_id", "codec", "rate_point", "bytes", "bpp", "encode_seconds", "decode_seconds", "device"]


def results_csv(
    results: Iterable[Result], metric_names: list[str], filenames: dict[int, str] | None = None
) -> Iterator[str]:
    """Same rows as the JSON, one column per metric (empty cell = not applicable), one CSV line at a time;
    with ``filenames`` (image id -> uploaded file name) a ``filename`` column follows ``image_id``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: list) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    columns = CSV_COLUMNS if filenames is None else CSV_COLUMNS[:2] + ["filename"] + CSV_COLUMNS[2:]
    yield line(columns + metric_names)
    for r in results:
        row = rd_row(r)
        if filenames is not None:
            row["filename"] = filenames.get(r.image_id, "")
        yield line([row[k] for k in columns] + ["" if r.metrics.get(m) is None else r.metrics[m] for m in metric_names])


def get_result(session: Session, result_id: int) -> Result:
    result = session.get(Result, result_id)
    if result is None:
        raise NotFound(f"result {result_id} does not exist")
    return result


def _finished_job_cached(session: Session, job: Job, key: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, kept in ``rd_points.cache`` once the job has finished. A finished job's rows change only if
    it runs again (status, finished_at and done change) or gains a row (a higher id); ``job.done`` is its result
    count (plus failures), recounted when it finished."""
    if job.status in JobStatus.active():  # rows still arrive: nothing to keep
        return compute()
    highest = session.scalar(select(func.max(Result.id)).where(Result.job_id == job.id))
    return rd_points.cache.get_or_compute(
        (
            "job",
            str(session.get_bind().engine.url),
            job.id,
            job.created_at,
            job.status,
            job.finished_at,
            job.done,
            highest,
        )
        + key,
        compute,
    )


@dataclass(frozen=True)
class CommonImages:
    """Which images a job's mean curves average: those every plotted codec has finished (issue 33).

    ``images`` is None when every codec has every image at every rate point (no restriction); otherwise the
    common subset (possibly empty). ``plotted`` are the codecs averaged over it, ``pending`` the codecs left out
    because they have not finished any image of that subset yet."""

    images: tuple[int, ...] | None
    total: int
    plotted: tuple[str, ...]
    pending: tuple[str, ...]

    @property
    def count(self) -> int:
        return self.total if self.images is None else len(self.images)


def common_images(session: Session, job: Job) -> CommonImages:
    """The images every plotted codec of ``job`` has finished (a result row at every one of its rate points; a
    metric that did not apply to a row is left out of that point's mean as before). Mean points averaged over different image subsets are not comparable (a codec that has done only
    the easy images looks better), so while a job runs, or when some of its tasks failed, every mean point and
    every BD-rate averages this common subset. Codecs join greedily, most finished images first, as long as the
    subset stays non-empty; the others are ``pending``."""
    total = len(job.image_set.images)
    wanted = {c["name"]: len({float(r) for r in c["rate_points"]}) for c in job.codecs}
    rows = session.execute(
        select(Result.codec, Result.image_id, func.count(func.distinct(Result.rate_point)))
        .where(Result.job_id == job.id)
        .group_by(Result.codec, Result.image_id)
    ).all()
    finished: dict[str, set[int]] = {name: set() for name in wanted}
    for codec, image, points in rows:
        if codec in wanted and int(points) >= wanted[codec]:
            finished[codec].add(int(image))
    if all(len(images) == total for images in finished.values()):
        return CommonImages(None, total, tuple(sorted(wanted)), ())
    common: set[int] | None = None
    plotted: list[str] = []
    for codec in sorted(finished, key=lambda c: (-len(finished[c]), c)):
        narrowed = finished[codec] if common is None else common & finished[codec]
        if narrowed:
            common, plotted = narrowed, plotted + [codec]
    pending = tuple(sorted(set(wanted) - set(plotted)))
    return CommonImages(tuple(sorted(common or ())), total, tuple(sorted(plotted)), pending)


def _job_curves(
    session: Session,
    job: Job,
    metrics: list[str],
    *,
    require: str | None = None,
    per_image: bool = False,
    image_id: int | None = None,
    only_images: tuple[int, ...] | None = None,
) -> dict[int | None, dict[str, RDCurve]]:
    """The job's RD curves aggregated in SQL ({image id or None: {codec: curve}}), over ``only_images`` when
    given."""
    where = [Result.job_id == job.id] + ([Result.image_id == image_id] if image_id is not None else [])
    if only_images is not None:
        where.append(Result.image_id.in_(only_images))
    query = rd_points.grouped_points(where, metrics, require=require, per_image=per_image)
    return rd_points.curves_from_rows(session.execute(query).all(), metrics, per_image=per_image)


def _metric_curves(
    session: Session, job: Job, metric: str, *, per_image: bool = False, image_id: int | None = None
) -> tuple[dict[int | None, dict[str, RDCurve]], CommonImages | None]:
    """RD curves over the rows that have ``metric`` (so bpp and quality average over the same images); shared by
    the RD plot and the BD-rate table, so either one read fills the cache for the other. Mean curves (not
    per image) average only the images every plotted codec has finished (:func:`common_images`)."""

    def compute() -> tuple[dict[int | None, dict[str, RDCurve]], CommonImages | None]:
        if per_image:
            return _job_curves(session, job, [metric], require=metric, per_image=True, image_id=image_id), None
        common = common_images(session, job) if image_id is None else None
        curves = _job_curves(
            session, job, [metric], require=metric, image_id=image_id, only_images=common.images if common else None
        )
        if common is not None and common.images is not None:
            curves = {
                key: {c: curve for c, curve in by_codec.items() if c in common.plotted}
                for key, by_codec in curves.items()
            }
        return curves, common

    if per_image and image_id is None:  # one point per row of the job (100,000 on a large job): not kept
        return compute()
    return _finished_job_cached(session, job, ("curves", metric, per_image, image_id), compute)


def _subset_json(common: CommonImages | None) -> dict:
    """The ``images``/``images_total``/``pending`` fields of an answer over mean curves."""
    if common is None:
        return {"images_common": None, "images_total": None, "complete": True, "pending_codecs": []}
    return {
        "images_common": common.count,
        "images_total": common.total,
        "complete": common.images is None,
        "pending_codecs": list(common.pending),
    }


def _known_metric(job: Job, metric: str) -> None:
    if metric not in job.metrics:
        raise Invalid(f"metric {metric!r} was not computed in job {job.id}; computed: {', '.join(job.metrics)}")


def curve_json(codec: str, image_id: int | None, curve: RDCurve, metric: str, per_image: bool, total: int) -> dict:
    """One ``RDCurveOut``: a mean point is ``complete`` when it averages all ``total`` images of the set."""
    return {
        "codec": codec,
        "image_id": image_id,
        "points": [
            {
                "rate_point": p.rate_point,
                "bpp": p.bpp,
                "value": p.metrics[metric],
                "images": p.n_images,
                "complete": per_image or p.n_images >= total,
            }
            for p in curve.points
        ],
    }


def rd_curves(session: Session, job_id: int, metric: str, per_image: bool = False, image_id: int | None = None) -> dict:
    """RD points per codec: mean bpp and mean metric over images at each rate point (CompressAI's
    averaging, ``analysis.rd.average_rd_points``, here one SQL GROUP BY over the rows that have ``metric``), or
    one curve per (codec, image) when ``per_image``; ``image_id`` keeps only that image's curves (per image)."""
    job = get_job(session, job_id)
    _known_metric(job, metric)
    per_image = per_image or image_id is not None
    groups, common = _metric_curves(session, job, metric, per_image=per_image, image_id=image_id)
    total = len(job.image_set.images)
    curves = [
        curve_json(codec, image_id, curve, metric, per_image, total)
        for image_id, by_codec in sorted(groups.items(), key=lambda kv: kv[0] or 0)
        for codec, curve in by_codec.items()
    ]
    return {"job_id": job_id, "metric": metric, "per_image": per_image, "curves": curves, **_subset_json(common)}


def rd_curves_json(
    session: Session, job_id: int, metric: str, per_image: bool = False, image_id: int | None = None
) -> bytes:
    """:func:`rd_curves` as the JSON the REST answer is; a finished job's answer is rendered once and kept (a
    100,000-row job has 1,000 points to validate and encode otherwise on every read)."""
    job = get_job(session, job_id)
    _known_metric(job, metric)

    def render() -> bytes:
        answer = rd_curves(session, job_id, metric, per_image, image_id)
        return json.dumps(answer, allow_nan=False, separators=(",", ":")).encode()

    if per_image and image_id is None:  # every image's curves: one point per row, not kept
        return render()
    return _finished_job_cached(session, job, ("rd-json", metric, per_image or image_id is not None, image_id), render)


def bd_rates(session: Session, job_id: int, anchor: str, metric: str, image_id: int | None = None) -> dict:
    """BD-rate and BD-quality (Bjontegaard, PCHIP) of every codec in the job against ``anchor``; over the mean
    curves (aggregated in SQL, over the images every plotted codec has finished: :func:`common_images`), or over
    one image's curves with ``image_id``. Each row says how many images its curves average (``images``)."""
    job = get_job(session, job_id)
    _known_metric(job, metric)
    codecs_in_job = [c["name"] for c in job.codecs]
    if anchor not in codecs_in_job:
        raise Invalid(f"anchor {anchor!r} is not a codec of job {job_id}; codecs: {', '.join(codecs_in_job)}")
    higher_is_better = metric_registry.metric_class(metric).higher_is_better

    def compare() -> tuple[list, CommonImages | None]:
        groups, common = _metric_curves(session, job, metric, image_id=image_id)
        by_codec = groups.get(None, {})
        curves = {codec: curve.xy(metric) for codec, curve in by_codec.items()}
        for codec in codecs_in_job:
            curves.setdefault(codec, ([], []))
        rows = compare_to_anchor(curves, anchor, metric, higher_is_better)
        # every row compares curves averaged over the same images: one image, or the common subset
        images = 1 if image_id is not None else (common.count if common else len(job.image_set.images))
        return [{**asdict(row), "images": images} for row in rows], common

    rows, common = _finished_job_cached(
        session, job, ("bd-rate", anchor, metric, image_id, tuple(codecs_in_job)), compare
    )
    return {
        "job_id": job_id,
        "anchor": anchor,
        "metric": metric,
        "method": "Bjontegaard, PCHIP interpolation",
        "image_id": image_id,
        "rows": rows,
        **_subset_json(common),
    }


def compressai_json(session: Session, job_id: int) -> dict[str, dict]:
    """One CompressAI results document per codec of the job (readable by CompressAI's plot tool)."""
    job = get_job(session, job_id)
    curves = _finished_job_cached(
        session, job, ("compressai", tuple(job.metrics)), lambda: _job_curves(session, job, list(job.metrics))
    ).get(None, {})
    images = len(job.image_set.images)
    return {
        codec: to_compressai_json(
            curve,
            f"licbench job {job_id}, {images} image(s) of set {job.image_set.name!r}; mean over images per rate point",
        )
        for codec, curve in curves.items()
    }
