"""The shared leaderboard (issue 12): codecs on a public image set ranked by BD-rate against an anchor.

Source rows: the results of succeeded jobs on the image set, the newest per (codec, rate point, image), so a
rerun replaces older numbers and every rate point averages over the same images. RD points are CompressAI's
mean bpp and mean metric over images per rate point (``analysis.rd.average_rd_points``); BD-rate and
BD-quality are Bjontegaard's deltas with PCHIP interpolation (``analysis.bd_rate``, VCEG-M33). Codecs whose
BD-rate cannot be computed (too few points in the overlap, non-monotonic curve, no anchor) come last with
the reason in ``note``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.bd_rate import bd_quality, bd_rate
from analysis.rd import RDCurve, RDPoint
from app.db.enums import JobStatus
from app.db.tables import Image, ImageSet, Job, Result
from app.services.accounts.auth import PUBLIC
from app.services.errors import Forbidden, Invalid, NotFound
from app.services.jobs import catalog, rd_points
from metrics import registry as metric_registry

T = TypeVar("T")


def public_image_sets(session: Session) -> list[dict]:
    """Public image sets with at least one succeeded job, newest first, with the codecs and metrics scored."""
    rows = session.execute(
        select(ImageSet, Job)
        .join(Job, Job.image_set_id == ImageSet.id)
        .where(ImageSet.visibility == PUBLIC, Job.status == JobStatus.SUCCEEDED)
        .order_by(ImageSet.id.desc(), Job.id)
    ).all()
    images = dict(
        session.execute(
            select(Image.image_set_id, func.count())
            .where(Image.image_set_id.in_({image_set.id for image_set, _ in rows}))
            .group_by(Image.image_set_id)
        ).all()
    )
    out: dict[int, dict] = {}
    for image_set, job in rows:
        entry = out.setdefault(
            image_set.id,
            {
                "id": image_set.id,
                "name": image_set.name,
                "images": images.get(image_set.id, 0),
                "codecs": [],
                "metrics": [],
            },
        )
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
        raise Forbidden(f"image set {image_set_id} is private; the leaderboard shows public image sets only")
    return image_set


def _succeeded_jobs(session: Session, image_set_id: int) -> list[tuple[int, datetime, datetime | None, int]]:
    """(id, created_at, finished_at, done) of the succeeded jobs on the image set, oldest first."""
    return [
        (job_id, created_at, finished_at, done)
        for job_id, created_at, finished_at, done in session.execute(
            select(Job.id, Job.created_at, Job.finished_at, Job.done)
            .where(Job.image_set_id == image_set_id, Job.status == JobStatus.SUCCEEDED)
            .order_by(Job.id)
        )
    ]


def _newest_where(job_ids: list[int]) -> list:
    """SQL conditions selecting the newest result per (codec, rate point, image) of ``job_ids``. With one job
    that is every row of it (``uq_result_task`` allows one row per task key), so no GROUP BY is needed."""
    if len(job_ids) <= 1:
        return [Result.job_id.in_(job_ids)]
    newest = (
        select(func.max(Result.id))
        .where(Result.job_id.in_(job_ids))
        .group_by(Result.codec, Result.rate_point, Result.image_id)
    )
    return [Result.id.in_(newest)]


def _cached(session: Session, image_set_id: int, key: tuple, compute: Callable[[], T]) -> T:
    """``compute()`` kept in ``rd_points.cache`` under the image set's succeeded jobs (id, created, finished,
    done) and their highest result id: a new, rerun or deleted job or a new row changes the key."""
    jobs = _succeeded_jobs(session, image_set_id)
    highest = session.scalar(select(func.max(Result.id)).where(Result.job_id.in_([j[0] for j in jobs])))
    return rd_points.cache.get_or_compute(
        ("leaderboard", str(session.get_bind().engine.url), image_set_id, tuple(jobs), highest) + key, compute
    )


@dataclass(frozen=True)
class CodecSummary:
    """A codec's mean RD curve for one metric and what the leaderboard says beside it, from the newest rows."""

    curve: RDCurve
    encode_seconds: float
    decode_seconds: float
    devices: list[str]  # most rows first (ties: first seen first)
    job_id: int  # newest contributing job


def codec_summaries(session: Session, image_set_id: int, metric: str) -> dict[str, CodecSummary]:
    """Per codec, from the newest rows that have ``metric``, aggregated in one SQL GROUP BY over (codec, rate
    point, device): mean bpp and metric per rate point (``analysis.rd.average_rd_points``), mean encode/decode
    seconds per image, devices by row count, newest job."""
    job_ids = [job[0] for job in _succeeded_jobs(session, image_set_id)]
    value = rd_points.value_of(metric)
    rows = session.execute(
        select(
            Result.codec,
            Result.rate_point,
            Result.device,
            func.count(),
            func.sum(Result.bpp),
            func.sum(value),
            func.sum(Result.encode_seconds),
            func.sum(Result.decode_seconds),
            func.max(Result.job_id),
            func.min(Result.id),
        )
        .where(*_newest_where(job_ids), value.is_not(None))
        .group_by(Result.codec, Result.rate_point, Result.device)
    ).all()
    points: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0.0, 0.0]))
    codecs: dict[str, dict] = {}
    for codec, rate_point, device, n, bpp, quality, encode, decode, job_id, first_id in rows:
        point = points[codec][float(rate_point)]
        point[0] += n
        point[1] += bpp
        point[2] += quality
        entry = codecs.setdefault(codec, {"n": 0, "encode": 0.0, "decode": 0.0, "job_id": job_id, "devices": {}})
        entry["n"] += n
        entry["encode"] += encode
        entry["decode"] += decode
        entry["job_id"] = max(entry["job_id"], job_id)
        seen = entry["devices"].get(device, (0, first_id))
        entry["devices"][device] = (seen[0] + n, min(seen[1], first_id))
    out = {}
    for codec in sorted(points):
        curve = RDCurve(
            codec,
            sorted(
                (
                    RDPoint(
                        rate_point=rate_point,
                        bpp=bpp / n,
                        metrics={metric: quality / n},
                        n_images=int(n),  # (a count kept in a list of float sums)
                        metric_counts={metric: int(n)},
                    )
                    for rate_point, (n, bpp, quality) in points[codec].items()
                ),
                key=lambda p: (p.bpp, p.rate_point),
            ),
        )
        entry = codecs[codec]
        devices = sorted(entry["devices"].items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        out[codec] = CodecSummary(
            curve, entry["encode"] / entry["n"], entry["decode"] / entry["n"], [d for d, _ in devices], entry["job_id"]
        )
    return out


def _metric(metric: str):
    if metric not in metric_registry.metric_names():
        raise Invalid(f"unknown metric {metric!r}; known metrics: {', '.join(metric_registry.metric_names())}")
    return metric_registry.metric_class(metric)


def leaderboard(session: Session, image_set_id: int, metric: str = "psnr", anchor: str = "jpeg") -> dict:
    """Rows ranked by BD-rate (percent of bits at equal ``metric`` against ``anchor``; lower is better)."""
    _public_set(session, image_set_id)
    higher_is_better = _metric(metric).higher_is_better
    rows = _cached(
        session,
        image_set_id,
        ("board", metric, anchor),
        lambda: _ranked_rows(codec_summaries(session, image_set_id, metric), metric, anchor, higher_is_better),
    )
    kinds = {name: c.kind for name, c in catalog.codecs(session).items()}  # the catalogue may change: not cached
    return {
        "image_set_id": image_set_id,
        "metric": metric,
        "anchor": anchor,
        "higher_is_better": higher_is_better,
        "method": "Bjontegaard, PCHIP interpolation; newest result "
        "per codec, rate point and image over succeeded jobs; mean over images per rate point",
        "rows": [{**row, "kind": kinds.get(row["codec"], "removed")} for row in rows],
    }


def _ranked_rows(summaries: dict[str, CodecSummary], metric: str, anchor: str, higher_is_better: bool) -> list[dict]:
    """Leaderboard rows (without the codec kind) sorted by BD-rate, ranked, n/a last."""
    anchor_xy = summaries[anchor].curve.xy(metric) if anchor in summaries else None
    rows = []
    rate: float | None
    quality: float | None
    note: str | None
    for codec, summary in summaries.items():
        curve = summary.curve
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
        rows.append(
            {
                "rank": None,
                "codec": codec,
                "bd_rate": rate,
                "bd_quality": quality,
                "bpp_min": min(bpp),
                "bpp_max": max(bpp),
                "rate_points": [p.rate_point for p in curve.points],
                "encode_seconds": summary.encode_seconds,
                "decode_seconds": summary.decode_seconds,
                "device": ", ".join(summary.devices),
                "job_id": summary.job_id,
                "images": max(p.n_images for p in curve.points),
                "note": note,
            }
        )
    rows.sort(
        key=lambda row: (row["bd_rate"] is None, row["bd_rate"] if row["bd_rate"] is not None else 0.0, row["codec"])
    )
    rank = 0
    for row in rows:
        if row["bd_rate"] is not None:
            rank += 1
            row["rank"] = rank
    return rows


def codec_curves(session: Session, image_set_id: int, codec: str) -> dict:
    """RD curves of ``codec`` on the public image set for every metric it was scored with, with the other
    codecs' curves for comparison: {metric: {codec: [{rate_point, bpp, value, images}]}} (one SQL GROUP BY per
    metric over the newest rows that have it)."""
    _public_set(session, image_set_id)
    job_ids = [job[0] for job in _succeeded_jobs(session, image_set_id)]
    where = _newest_where(job_ids)

    def compute() -> tuple[list[int], dict[str, dict]] | None:
        contributing = sorted(session.scalars(select(Result.job_id).where(*where, Result.codec == codec).distinct()))
        if not contributing:
            return None
        scored = {m for metrics in session.scalars(select(Job.metrics).where(Job.id.in_(job_ids))) for m in metrics}
        out: dict[str, dict] = {}
        for metric in sorted(scored):
            query = rd_points.grouped_points(where, [metric], require=metric)
            curves = rd_points.curves_from_rows(session.execute(query).all(), [metric]).get(None, {})
            if codec in curves:
                out[metric] = {
                    name: [
                        {"rate_point": p.rate_point, "bpp": p.bpp, "value": p.metrics[metric], "images": p.n_images}
                        for p in curve.points
                    ]
                    for name, curve in curves.items()
                }
        return contributing, out

    found = _cached(session, image_set_id, ("codec", codec), compute)
    if found is None:
        raise NotFound(f"codec {codec!r} has no results on image set {image_set_id}")
    return {"image_set_id": image_set_id, "codec": codec, "jobs": found[0], "metrics": found[1]}
