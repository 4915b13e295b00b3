"""The shared leaderboard (issue 12): codecs on a public image set ranked by BD-rate against an anchor.

Source rows: the results of succeeded jobs on the image set, the newest per (codec, rate point, image), so a
rerun replaces older numbers and every rate point averages over the same images. RD points are CompressAI's
mean bpp and mean metric over images per rate point (``analysis.rd.average_rd_points``); BD-rate and
BD-quality are Bjontegaard's deltas with PCHIP interpolation (``analysis.bd_rate``, VCEG-M33). Codecs whose
BD-rate cannot be computed (too few points in the overlap, non-monotonic curve, no anchor) come last with
the reason in ``note``.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.bd_rate import bd_quality, bd_rate
from analysis.rd import average_rd_points
from app.db.enums import JobStatus
from app.db.tables import ImageSet, Job, Result
from app.services import catalog
from app.services.auth import PUBLIC
from app.services.errors import Invalid, NotFound, ServiceError
from metrics import registry as metric_registry


def public_image_sets(session: Session) -> list[dict]:
    """Public image sets with at least one succeeded job, newest first, with the codecs and metrics scored."""
    rows = session.execute(select(ImageSet, Job).join(Job, Job.image_set_id == ImageSet.id)
                           .where(ImageSet.visibility == PUBLIC, Job.status == JobStatus.SUCCEEDED)
                           .order_by(ImageSet.id.desc(), Job.id)).all()
    out: dict[int, dict] = {}
    for image_set, job in rows:
        entry = out.setdefault(image_set.id, {"id": image_set.id, "name": image_set.name,
                                              "images": len(image_set.images), "codecs": [], "metrics": []})
        for codec in job.codecs:
            if codec["name"] not in entry["codecs"]:
                entry["codecs"].append(codec["name"])
        for metric in job.metrics:
            if metric not in entry["metrics"]:
                entry["metrics"].append(metric)
    return list(out.values())


def _public_set(session: Session, image_set_id: int) -> ImageSet:
    image_set = session.get(ImageSet, image_set_id)
    if image_set is None:
        raise NotFound(f"image set {image_set_id} does not exist")
    if image_set.visibility != PUBLIC:
        raise ServiceError(f"image set {image_set_id} is private; the leaderboard shows public image sets only", 403)
    return image_set


def newest_results(session: Session, image_set_id: int) -> list[Result]:
    """The newest result per (codec, rate point, image) over succeeded jobs on the image set."""
    newest = (select(func.max(Result.id))
              .join(Job, Job.id == Result.job_id)
              .where(Job.image_set_id == image_set_id, Job.status == JobStatus.SUCCEEDED)
              .group_by(Result.codec, Result.rate_point, Result.image_id))
    return list(session.scalars(select(Result).where(Result.id.in_(newest)).order_by(Result.id)))


def _metric(metric: str):
    if metric not in metric_registry.metric_names():
        raise Invalid(f"unknown metric {metric!r}; known metrics: {', '.join(metric_registry.metric_names())}")
    return metric_registry.metric_class(metric)


def leaderboard(session: Session, image_set_id: int, metric: str = "psnr", anchor: str = "jpeg") -> dict:
    """Rows ranked by BD-rate (percent of bits at equal ``metric`` against ``anchor``; lower is better)."""
    _public_set(session, image_set_id)
    higher_is_better = _metric(metric).higher_is_better
    results = [r for r in newest_results(session, image_set_id) if r.metrics.get(metric) is not None]
    by_codec: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_codec[r.codec].append(r)
    curves = {codec: curve for codec, curve in average_rd_points(
        {"codec": r.codec, "rate_point": r.rate_point, "bpp": r.bpp, "metrics": {metric: r.metrics[metric]}}
        for r in results).items()}
    kinds = {name: c.kind for name, c in catalog.codecs(session).items()}
    anchor_xy = curves[anchor].xy(metric) if anchor in curves else None
    rows = []
    for codec, curve in curves.items():
        rows_of_codec = by_codec[codec]
        bpp, values = curve.xy(metric)
        if codec == anchor:
            rate, quality, note = 0.0, 0.0, "anchor"
        elif anchor_xy is None:
            rate = quality = None
            note = f"the anchor {anchor!r} has no {metric} results on this image set"
        else:
            r = bd_rate(*anchor_xy, bpp, values, higher_is_better, metric)
            q = bd_quality(*anchor_xy, bpp, values, higher_is_better, metric)
            rate, quality = r.value, q.value
            note = r.reason if r.value is None else ("" if q.value is not None else f"BD-quality: {q.reason}")
        devices = Counter(x.device for x in rows_of_codec)
        rows.append({
            "rank": None, "codec": codec, "kind": kinds.get(codec, "removed"),
            "bd_rate": rate, "bd_quality": quality,
            "bpp_min": min(bpp), "bpp_max": max(bpp),
            "rate_points": [p.rate_point for p in curve.points],
            "encode_seconds": sum(x.encode_seconds for x in rows_of_codec) / len(rows_of_codec),
            "decode_seconds": sum(x.decode_seconds for x in rows_of_codec) / len(rows_of_codec),
            "device": ", ".join(d for d, _ in devices.most_common()),
            "job_id": max(x.job_id for x in rows_of_codec),
            "images": max(p.n_images for p in curve.points),
            "note": note,
        })
    rows.sort(key=lambda row: (row["bd_rate"] is None, row["bd_rate"] if row["bd_rate"] is not None else 0.0,
                               row["codec"]))
    rank = 0
    for row in rows:
        if row["bd_rate"] is not None:
            rank += 1
            row["rank"] = rank
    return {"image_set_id": image_set_id, "metric": metric, "anchor": anchor,
            "higher_is_better": higher_is_better, "method": "Bjontegaard, PCHIP interpolation; newest result "
            "per codec, rate point and image over succeeded jobs; mean over images per rate point", "rows": rows}


def codec_curves(session: Session, image_set_id: int, codec: str) -> dict:
    """RD curves of ``codec`` on the public image set for every metric it was scored with, with the other
    codecs' curves for comparison: {metric: {codec: [{rate_point, bpp, value, images}]}}."""
    _public_set(session, image_set_id)
    results = newest_results(session, image_set_id)
    if not any(r.codec == codec for r in results):
        raise NotFound(f"codec {codec!r} has no results on image set {image_set_id}")
    metrics = sorted({m for r in results if r.codec == codec for m, v in r.metrics.items() if v is not None})
    out: dict[str, dict] = {}
    for metric in metrics:
        rows = [{"codec": r.codec, "rate_point": r.rate_point, "bpp": r.bpp, "metrics": {metric: r.metrics[metric]}}
                for r in results if r.metrics.get(metric) is not None]
        out[metric] = {name: [{"rate_point": p.rate_point, "bpp": p.bpp, "value": p.metrics[metric],
                               "images": p.n_images} for p in curve.points]
                       for name, curve in average_rd_points(rows).items()}
    job_ids = sorted({r.job_id for r in results if r.codec == codec})
    return {"image_set_id": image_set_id, "codec": codec, "jobs": job_ids, "metrics": out}
