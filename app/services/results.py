"""Read a job's results: rows, CSV export and RD curves."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.tables import Result
from app.services.errors import Invalid, NotFound
from app.services.jobs import get_job
from analysis.bd_rate import compare_to_anchor
from analysis.compressai_json import to_compressai_json
from analysis.rd import average_rd_points
from metrics import registry as metric_registry


def list_results(session: Session, job_id: int, limit: int | None = None, offset: int = 0) -> list[Result]:
    """A job's result rows ordered by codec, rate point, image (404 for an unknown job); ``limit``/``offset``
    select one page."""
    get_job(session, job_id)
    return list(session.scalars(select(Result).where(Result.job_id == job_id)
                                .order_by(Result.codec, Result.rate_point, Result.image_id, Result.id)
                                .limit(limit).offset(offset)))


def count_results(session: Session, job_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Result).where(Result.job_id == job_id)) or 0


def rd_row(r: Result) -> dict:
    """A result as the row ``analysis.rd``/the CSV export read (same fields as the REST answer)."""
    return {
        "id": r.id, "image_id": r.image_id, "codec": r.codec, "rate_point": r.rate_point, "bytes": r.bytes,
        "bpp": r.bpp, "encode_seconds": r.encode_seconds, "decode_seconds": r.decode_seconds,
        "metrics_seconds": r.metrics_seconds,
        "metrics": r.metrics, "metric_notes": r.metric_notes or {}, "device": r.device,
    }


CSV_COLUMNS = ["id", "image_id", "codec", "rate_point", "bytes", "bpp", "encode_seconds", "decode_seconds", "device"]


def results_csv(results: Iterable[Result], metric_names: list[str],
                filenames: dict[int, str] | None = None) -> Iterator[str]:
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
        yield line([row[k] for k in columns] + ["" if r.metrics.get(m) is None else r.metrics[m]
                                                for m in metric_names])


def get_result(session: Session, result_id: int) -> Result:
    result = session.get(Result, result_id)
    if result is None:
        raise NotFound(f"result {result_id} does not exist")
    return result


def _rows_with(results: list[Result], metric: str) -> list[dict]:
    """Rows that have ``metric``, so each RD point averages bpp and quality over the same images."""
    return [rd_row(r) for r in results if r.metrics.get(metric) is not None]


def rd_curves(session: Session, job_id: int, metric: str, per_image: bool = False) -> dict:
    """RD points per codec: mean bpp and mean metric over images at each rate point (CompressAI's
    averaging), or one curve per (codec, image) when ``per_image``."""
    job = get_job(session, job_id)
    if metric not in job.metrics:
        raise Invalid(f"metric {metric!r} was not computed in job {job_id}; computed: {', '.join(job.metrics)}")
    rows = _rows_with(list_results(session, job_id), metric)
    groups: dict[int | None, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row["image_id"] if per_image else None].append(row)
    curves = []
    for image_id, group in sorted(groups.items(), key=lambda kv: kv[0] or 0):
        for codec, curve in average_rd_points(group).items():
            curves.append({"codec": codec, "image_id": image_id, "points": [
                {"rate_point": p.rate_point, "bpp": p.bpp, "value": p.metrics[metric], "images": p.n_images}
                for p in curve.points]})
    return {"job_id": job_id, "metric": metric, "per_image": per_image, "curves": curves}


def bd_rates(session: Session, job_id: int, anchor: str, metric: str, image_id: int | None = None) -> dict:
    """BD-rate and BD-quality (Bjontegaard, PCHIP) of every codec in the job against ``anchor``; over the mean
    curves, or over one image's curves with ``image_id``."""
    job = get_job(session, job_id)
    if metric not in job.metrics:
        raise Invalid(f"metric {metric!r} was not computed in job {job_id}; computed: {', '.join(job.metrics)}")
    codecs_in_job = [c["name"] for c in job.codecs]
    if anchor not in codecs_in_job:
        raise Invalid(f"anchor {anchor!r} is not a codec of job {job_id}; codecs: {', '.join(codecs_in_job)}")
    higher_is_better = metric_registry.metric_class(metric).higher_is_better
    rows = list_results(session, job_id)
    if image_id is not None:
        rows = [r for r in rows if r.image_id == image_id]
    curves = {codec: curve.xy(metric) for codec, curve in average_rd_points(_rows_with(rows, metric)).items()}
    for codec in codecs_in_job:
        curves.setdefault(codec, ([], []))
    rows = compare_to_anchor(curves, anchor, metric, higher_is_better)
    return {"job_id": job_id, "anchor": anchor, "metric": metric, "method": "Bjontegaard, PCHIP interpolation",
            "image_id": image_id, "rows": rows}


def compressai_json(session: Session, job_id: int) -> dict[str, dict]:
    """One CompressAI results document per codec of the job (readable by CompressAI's plot tool)."""
    job = get_job(session, job_id)
    curves = average_rd_points(rd_row(r) for r in list_results(session, job_id))
    images = len(job.image_set.images)
    return {codec: to_compressai_json(curve, f"licbench job {job_id}, {images} image(s) of set "
                                             f"{job.image_set.name!r}; mean over images per rate point")
            for codec, curve in curves.items()}
