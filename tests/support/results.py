"""Jobs with result rows inserted directly (no codec runs): small hand-made ones for tests, 100,000-row synthetic
ones for benchmarks/api.py. ``connection`` is a SQLAlchemy connection in a transaction (``engine.begin()``)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator

import numpy as np
from sqlalchemy import insert, select

from analysis.rd import average_rd_points
from app.db.tables import Image, ImageSet, Job, Result
from app.services.jobs.results import curve_json

BATCH = 5000
POINTS = [10.0, 30.0, 50.0, 70.0, 90.0]  # rate points of hand_made_rows


def insert_image_set(
    connection, owner_id: int, images: int, name: str, visibility: str = "public"
) -> tuple[int, list[int]]:
    """An image set of ``images`` 512x512 image rows (no files); returns (set id, image ids)."""
    set_id = connection.execute(
        insert(ImageSet).values(name=name, owner_id=owner_id, visibility=visibility)
    ).inserted_primary_key[0]
    connection.execute(
        insert(Image),
        [
            dict(
                image_set_id=set_id,
                filename=f"s{i}.png",
                content_hash=f"{set_id:032x}{i:032x}",
                width=512,
                height=512,
                original_format="PNG",
                original_mode="RGB",
                conversion="none",
            )
            for i in range(images)
        ],
    )
    image_ids = list(connection.scalars(select(Image.id).where(Image.image_set_id == set_id).order_by(Image.id)))
    return set_id, image_ids


def insert_job(
    connection,
    owner_id: int,
    image_set_id: int,
    codecs: dict[str, list[float]],
    metrics: list[str],
    results: Iterable[dict],
    status: str = "succeeded",
) -> int:
    """A job row and its result rows (each a dict with at least image_id, codec, rate_point, bpp, metrics)."""
    job_id = connection.execute(
        insert(Job).values(
            image_set_id=image_set_id,
            owner_id=owner_id,
            status=status,
            done=0,
            total=0,
            metrics=metrics,
            codecs=[{"name": c, "rate_points": points} for c, points in codecs.items()],
        )
    ).inserted_primary_key[0]
    count, batch = 0, []
    for row in results:
        batch.append(
            {
                "bytes": int(row["bpp"] * 512 * 512 / 8),
                "encode_seconds": 0.01,
                "decode_seconds": 0.01,
                "metrics_seconds": 0.01,
                "metric_notes": {},
                "device": "cpu",
                "reconstruction_path": f"reconstructions/{job_id}/{count}.png",
                **row,
                "job_id": job_id,
            }
        )
        count += 1
        if len(batch) >= BATCH:
            connection.execute(insert(Result), batch)
            batch = []
    if batch:
        connection.execute(insert(Result), batch)
    connection.execute(Job.__table__.update().where(Job.id == job_id).values(done=count, total=count))
    return job_id


def synthetic_results(image_ids: list[int], codecs: dict[str, list[float]], seed: int = 0) -> Iterator[dict]:
    """Plausible rows for every (codec, rate point, image): bpp rising with the rate point, PSNR and MS-SSIM rising
    with bpp, codecs a little apart, small per-image noise."""
    rng = np.random.default_rng(seed)
    for c_index, (codec, rate_points) in enumerate(codecs.items()):
        for q in rate_points:
            for image_id in image_ids:
                bpp = 0.05 + q / 40 * (1 + 0.1 * c_index) + float(rng.random()) * 0.01
                yield {
                    "image_id": image_id,
                    "codec": codec,
                    "rate_point": q,
                    "bpp": bpp,
                    "metrics": {
                        "psnr": 25 + 10 * float(np.log2(1 + bpp)) - c_index * 0.3,
                        "ms-ssim": 1 - 0.1 / (1 + bpp),
                    },
                }


def hand_made_rows(image_ids: list[int]) -> list[dict]:
    """Two images, three codecs, five rate points; image 2 has no SSIM at jpeg 50 (so that point's SSIM mean
    covers image 1 only, bpp too) and webp at 90 has SSIM null for both images (no SSIM point there)."""
    rows = []
    for c, codec in enumerate(("jpeg", "webp", "avif")):
        for i, image_id in enumerate(image_ids):
            for k, q in enumerate(POINTS):
                bpp = 0.1 + 0.2 * k + 0.05 * c + 0.01 * i
                ssim = (
                    None
                    if (codec, i, q) == ("jpeg", 1, 50.0) or (codec, q) == ("webp", 90.0)
                    else 0.8 + 0.03 * k + 0.01 * c - 0.002 * i
                )
                rows.append(
                    {
                        "image_id": image_id,
                        "codec": codec,
                        "rate_point": q,
                        "bpp": bpp,
                        "device": "cpu" if i == 0 else "cuda",
                        "metrics": {"psnr": 28 + 2.5 * k + 0.7 * c - 0.3 * i + 0.1 * k * k, "ssim": ssim},
                    }
                )
    return rows


def assert_close(got, expected, path="") -> None:
    """Same structure and fields; floats equal to 1e-9."""
    if isinstance(expected, float) and isinstance(got, (int, float)):
        assert math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9), f"{path}: {got} != {expected}"
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and set(got) == set(expected), f"{path}: {sorted(got)} != {sorted(expected)}"
        for key in expected:
            assert_close(got[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), f"{path}: {len(got)} != {len(expected)} items"
        for i, (a, b) in enumerate(zip(got, expected)):
            assert_close(a, b, f"{path}[{i}]")
    else:
        assert got == expected, f"{path}: {got!r} != {expected!r}"


def python_rd_curves(rows: list[dict], metric: str, per_image: bool) -> list[dict]:
    """The answer ``GET /jobs/{id}/rd`` gave before SQL aggregation: average_rd_points over the rows with the
    metric, per image or over all images; a mean point is ``complete`` when it averages every image of the rows."""
    total = len({row["image_id"] for row in rows})
    groups = defaultdict(list)
    for row in rows:
        if row["metrics"].get(metric) is not None:
            groups[row["image_id"] if per_image else None].append(row)
    return [
        curve_json(codec, image_id, curve, metric, per_image, total)  # the answer's shape; the numbers are ours
        for image_id, group in sorted(groups.items(), key=lambda kv: kv[0] or 0)
        for codec, curve in average_rd_points(group).items()
    ]


def subset_fields(images: int | None) -> dict:
    """The common-image fields of an RD or BD answer over a finished job's mean curves (``images``) or per image
    (None)."""
    return {"images_common": images, "images_total": images, "complete": True, "pending_codecs": []}
