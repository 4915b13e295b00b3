"""Read a job's results: rows, CSV export and RD curves."""
from __future__ import annotations

import csv
import io
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.tables import Result
from app.services.errors import Invalid, NotFound
from app.services.jobs import get_job


def list_results(session: Session, job_id: int) -> list[Result]:
    get_job(session, job_id)
    return list(session.scalars(select(Result).where(Result.job_id == job_id)
                                .order_by(Result.codec, Result.rate_point, Result.image_id)))


def result_json(r: Result) -> dict:
    return {
        "id": r.id, "image_id": r.image_id, "codec": r.codec, "rate_point": r.rate_point, "bytes": r.bytes,
        "bpp": r.bpp, "encode_seconds": r.encode_seconds, "decode_seconds": r.decode_seconds,
        "metrics": r.metrics, "metric_notes": r.metric_notes or {}, "device": r.device,
    }


def results_csv(results: list[Result], metric_names: list[str]) -> str:
    """Same rows as the JSON, one column per metric (empty cell = not applicable)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    fixed = ["id", "image_id", "codec", "rate_point", "bytes", "bpp", "encode_seconds", "decode_seconds", "device"]
    writer.writerow(fixed + metric_names)
    for r in results:
        row = result_json(r)
        writer.writerow([row[k] for k in fixed] + ["" if r.metrics.get(m) is None else r.metrics[m]
                                                   for m in metric_names])
    return buffer.getvalue()


def get_result(session: Session, result_id: int) -> Result:
    result = session.get(Result, result_id)
    if result is None:
        raise NotFound(f"result {result_id} does not exist")
    return result


def rd_curves(session: Session, job_id: int, metric: str, per_image: bool = False) -> dict:
    """RD points per codec: mean bpp and mean metric over images at each rate point (CompressAI's
    averaging), or one curve per (codec, image) when ``per_image``."""
    job = get_job(session, job_id)
    if metric not in job.metrics:
        raise Invalid(f"metric {metric!r} was not computed in job {job_id}; computed: {', '.join(job.metrics)}")
    groups: dict[tuple, dict[float, list[tuple[float, float]]]] = defaultdict(lambda: defaultdict(list))
    for r in list_results(session, job_id):
        value = r.metrics.get(metric)
        if value is None:
            continue
        key = (r.codec, r.image_id) if per_image else (r.codec, None)
        groups[key][r.rate_point].append((r.bpp, value))
    curves = []
    for (codec, image_id), by_rate in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        points = []
        for rate_point, pairs in by_rate.items():
            points.append({
                "rate_point": rate_point,
                "bpp": sum(p[0] for p in pairs) / len(pairs),
                "value": sum(p[1] for p in pairs) / len(pairs),
                "images": len(pairs),
            })
        points.sort(key=lambda p: p["bpp"])
        curves.append({"codec": codec, "image_id": image_id, "points": points})
    return {"job_id": job_id, "metric": metric, "per_image": per_image, "curves": curves}
