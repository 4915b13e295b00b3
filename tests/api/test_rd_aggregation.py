"""RD curves, BD-rates, CompressAI JSON and the leaderboard aggregate in SQL (issue 13, 100,000 result rows):
the answers equal the earlier Python aggregation over every row (``analysis.rd.average_rd_points``, checked by
hand on one point) to 1e-9, and the number of SQL statements per request does not grow with the rows (no N+1)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from analysis.bd_rate import bd_quality, bd_rate, compare_to_anchor
from analysis.compressai_json import to_compressai_json
from analysis.rd import average_rd_points
from app.api.schemas import RDCurvesOut
from tests.support.accounts import ANONYMOUS
from tests.support.results import (
    POINTS,
    assert_close,
    hand_made_rows,
    insert_image_set,
    insert_job,
    python_rd_curves,
    subset_fields,
    synthetic_results,
)


def _engine():
    from app.db.session import session_factory

    return session_factory().kw["bind"]


def _owner_id(api) -> int:
    return api.get("/api/v1/me").json()["id"]


@pytest.fixture
def small_job(api):
    with _engine().begin() as connection:
        set_id, images = insert_image_set(connection, _owner_id(api), 2, "hand made", visibility="public")
        job_id = insert_job(
            connection,
            _owner_id(api),
            set_id,
            {c: POINTS for c in ("jpeg", "webp", "avif")},
            ["psnr", "ssim"],
            hand_made_rows(images),
        )
    return set_id, job_id, images


def _bd_json(job_id: int, anchor: str, metric: str, image_id, comparisons) -> dict:
    """The answer as the route's response model writes it."""
    from dataclasses import asdict

    from app.api.schemas import BDRatesOut

    rows = [{**asdict(c), "images": 1 if image_id else 2} for c in comparisons]  # the finished job's two images
    return BDRatesOut.model_validate(
        {
            "job_id": job_id,
            "anchor": anchor,
            "metric": metric,
            "image_id": image_id,
            "method": "Bjontegaard, PCHIP interpolation",
            "rows": rows,
            **subset_fields(2 if image_id is None else None),
        },
        from_attributes=True,
    ).model_dump(mode="json")


@pytest.mark.parametrize(
    "page, rows", [({}, 30), ({"limit": 7}, 7), ({"limit": 7, "offset": 28}, 2), ({"offset": 30}, 0)]
)
def test_result_pages_rendered_by_the_database_equal_the_response_model(api, small_job, page, rows):
    """The page JSON the database renders has ResultOut's fields in its order, the rows in the same order and
    exactly the same numbers as validating the ORM rows through ResultOut did before."""
    from app.api.schemas import ResultOut
    from app.db.session import session_scope
    from app.services.jobs.results import list_results

    _, job_id, _ = small_job
    with _engine().begin() as connection:  # a null metric_notes (older rows) reads as {}
        connection.exec_driver_sql("UPDATE results SET metric_notes = 'null' WHERE id = (SELECT min(id) FROM results)")
    with session_scope() as session:
        expected = [
            ResultOut.model_validate(r).model_dump(mode="json")
            for r in list_results(session, job_id, page.get("limit", 1000), page.get("offset", 0))
        ]
    response = api.get(f"/api/v1/jobs/{job_id}/results", params=page)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.headers["X-Total-Count"] == "30"
    got = response.json()
    assert [list(row) for row in got] == [list(row) for row in expected]  # same fields, same order
    assert got == expected  # the very same doubles
    assert len(got) == rows


def test_rd_points_are_the_means_over_images_computed_by_hand(api, small_job):
    _, job_id, _ = small_job
    rd = api.get(f"/api/v1/jobs/{job_id}/rd", params={"metric": "ssim"}).json()
    jpeg = next(c for c in rd["curves"] if c["codec"] == "jpeg")
    at_50 = next(p for p in jpeg["points"] if p["rate_point"] == 50.0)
    # only image 1 has SSIM at jpeg 50: bpp 0.1 + 0.4 = 0.5, SSIM 0.8 + 0.06 = 0.86
    assert at_50["images"] == 1 and at_50["bpp"] == pytest.approx(0.5, abs=1e-12)
    assert at_50["value"] == pytest.approx(0.86, abs=1e-12)
    at_70 = next(p for p in jpeg["points"] if p["rate_point"] == 70.0)
    assert at_70["images"] == 2 and at_70["bpp"] == pytest.approx((0.7 + 0.71) / 2, abs=1e-12)
    assert at_70["value"] == pytest.approx((0.89 + 0.888) / 2, abs=1e-12)
    webp = next(c for c in rd["curves"] if c["codec"] == "webp")
    assert [p["rate_point"] for p in webp["points"]] == POINTS[:4]  # SSIM null at 90 for every image


@pytest.mark.parametrize("metric", ["psnr", "ssim"])
def test_rd_and_bd_rate_equal_the_python_aggregation_of_every_row(api, small_job, metric):
    _, job_id, images = small_job
    rows = api.get(f"/api/v1/jobs/{job_id}/results").json()
    assert len(rows) == 30
    for per_image in (False, True):
        rd = api.get(f"/api/v1/jobs/{job_id}/rd", params={"metric": metric, "per_image": per_image}).json()
        assert rd == RDCurvesOut.model_validate(rd).model_dump(mode="json")  # the response model's shape exactly
        assert_close(
            rd,
            {
                "job_id": job_id,
                "metric": metric,
                "per_image": per_image,
                "curves": python_rd_curves(rows, metric, per_image),
                **subset_fields(None if per_image else 2),
            },
        )
    one_image = api.get(f"/api/v1/jobs/{job_id}/rd", params={"metric": metric, "image_id": images[1]}).json()
    assert_close(one_image["curves"], [c for c in python_rd_curves(rows, metric, True) if c["image_id"] == images[1]])
    assert one_image["per_image"] is True
    for image_id in (None, images[1]):
        chosen = [r for r in rows if image_id is None or r["image_id"] == image_id]
        curves = {
            codec: curve.xy(metric)
            for codec, curve in average_rd_points(r for r in chosen if r["metrics"].get(metric) is not None).items()
        }
        expected = _bd_json(job_id, "jpeg", metric, image_id, compare_to_anchor(curves, "jpeg", metric, True))
        params = {"anchor": "jpeg", "metric": metric} | ({"image_id": image_id} if image_id else {})
        bd = api.get(f"/api/v1/jobs/{job_id}/bd-rate", params=params).json()
        assert_close(bd, expected)
        if metric == "psnr":  # (on SSIM the shifted jpeg point leaves too few points in the overlap: n/a both ways)
            assert all(row["bd_rate"]["value"] is not None for row in bd["rows"])
        # a second read (served from the cache of the finished job) is the same answer
        assert api.get(f"/api/v1/jobs/{job_id}/bd-rate", params=params).json() == bd


def test_compressai_json_equals_the_python_aggregation(api, small_job):
    _, job_id, _ = small_job
    rows = api.get(f"/api/v1/jobs/{job_id}/results").json()
    documents = api.get(f"/api/v1/jobs/{job_id}/compressai-json").json()
    expected = {codec: to_compressai_json(curve, "") for codec, curve in average_rd_points(rows).items()}
    assert set(documents) == set(expected)
    for codec, document in documents.items():
        assert_close(document["results"], expected[codec]["results"], codec)


def _python_leaderboard(rows_by_job: list[list[dict]], metric: str, anchor: str) -> dict[str, dict]:
    """What the leaderboard computed before: newest row per (codec, rate point, image) over the succeeded jobs,
    average_rd_points over those with the metric, Bjontegaard against the anchor."""
    newest = {}
    for rows in rows_by_job:  # later jobs have higher ids
        for row in sorted(rows, key=lambda r: r["id"]):
            newest[(row["codec"], row["rate_point"], row["image_id"])] = row
    chosen = sorted((r for r in newest.values() if r["metrics"].get(metric) is not None), key=lambda r: r["id"])
    curves = average_rd_points(chosen)
    out = {}
    for codec, curve in curves.items():
        of_codec = [r for r in chosen if r["codec"] == codec]
        bpp, values = curve.xy(metric)
        if codec == anchor:
            rate, quality = 0.0, 0.0
        else:
            rate = bd_rate(*curves[anchor].xy(metric), bpp, values, True, metric).value
            quality = bd_quality(*curves[anchor].xy(metric), bpp, values, True, metric).value
        devices = defaultdict(int)
        for r in of_codec:
            devices[r["device"]] += 1
        out[codec] = {
            "bd_rate": rate,
            "bd_quality": quality,
            "bpp_min": min(bpp),
            "bpp_max": max(bpp),
            "rate_points": [p.rate_point for p in curve.points],
            "encode_seconds": sum(r["encode_seconds"] for r in of_codec) / len(of_codec),
            "decode_seconds": sum(r["decode_seconds"] for r in of_codec) / len(of_codec),
            "device": ", ".join(sorted(devices, key=lambda d: -devices[d])),
            "job_id": max(r["job_id"] for r in of_codec),
            "images": max(p.n_images for p in curve.points),
        }
    return out


def test_leaderboard_equals_the_python_aggregation_of_the_newest_rows(api, small_job):
    set_id, first_job, images = small_job
    with _engine().begin() as connection:
        owner = _owner_id(api)
        # a rerun of webp (new numbers replace the old ones), a failed job that must not count
        rerun = [dict(r, bpp=r["bpp"] * 0.9, device="cpu") for r in hand_made_rows(images) if r["codec"] == "webp"]
        insert_job(connection, owner, set_id, {"webp": POINTS}, ["psnr", "ssim"], rerun)
        insert_job(
            connection,
            owner,
            set_id,
            {"avif": POINTS},
            ["psnr"],
            [dict(r, bpp=9.0) for r in hand_made_rows(images) if r["codec"] == "avif"],
            status="failed",
        )
    jobs = [j for j in api.get("/api/v1/jobs", params={"image_set_id": set_id}).json() if j["status"] == "succeeded"]
    rows_by_job = [api.get(f"/api/v1/jobs/{j['id']}/results").json() for j in sorted(jobs, key=lambda j: j["id"])]
    for row_list, job in zip(rows_by_job, sorted(jobs, key=lambda j: j["id"])):
        for row in row_list:
            row["job_id"] = job["id"]
    for metric in ("psnr", "ssim"):
        body = api.get(
            "/api/v1/leaderboard",
            params={"image_set_id": set_id, "metric": metric, "anchor": "jpeg"},
            headers=ANONYMOUS,
        ).json()
        got = {
            row["codec"]: {k: v for k, v in row.items() if k not in ("rank", "codec", "kind", "note")}
            for row in body["rows"]
        }
        assert_close(got, _python_leaderboard(rows_by_job, metric, "jpeg"), metric)
        assert got["webp"]["job_id"] == max(j["id"] for j in jobs)
    curves = api.get("/api/v1/leaderboard/codecs/webp", params={"image_set_id": set_id}, headers=ANONYMOUS).json()
    assert curves["jobs"] == [max(j["id"] for j in jobs)] and sorted(curves["metrics"]) == ["psnr", "ssim"]


class StatementCounter:
    """Counts SQL statements sent by any engine while active."""

    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1

    def __enter__(self):
        event.listen(Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(Engine, "before_cursor_execute", self)


def _job_of(api, rows: int) -> tuple[int, int]:
    codecs = {"jpeg": [5.0 + 0.5 * k for k in range(rows // 10)]}  # 2 codecs x 5 images x rows/10 points
    codecs["webp"] = codecs["jpeg"]
    with _engine().begin() as connection:
        set_id, images = insert_image_set(connection, _owner_id(api), 5, f"{rows} rows", visibility="public")
        job_id = insert_job(
            connection,
            _owner_id(api),
            set_id,
            codecs,
            ["psnr", "ms-ssim"],
            synthetic_results(images, codecs, seed=rows),
        )
    assert api.get(f"/api/v1/jobs/{job_id}/results", params={"limit": 1}).headers["X-Total-Count"] == str(rows)
    return set_id, job_id


def test_statements_per_request_do_not_grow_with_the_rows(api):
    """No N+1: a 50-row and a 500-row job need the same number of SQL statements per read, first read (computed)
    and second read (cached) alike."""
    small, large = _job_of(api, 50), _job_of(api, 500)
    paths = [
        "/api/v1/jobs/{job}/results",
        "/api/v1/jobs/{job}/results?limit=20&offset=20",
        "/api/v1/jobs/{job}/rd?metric=psnr",
        "/api/v1/jobs/{job}/rd?metric=psnr&per_image=true",
        "/api/v1/jobs/{job}/bd-rate?anchor=jpeg&metric=psnr",
        "/api/v1/jobs/{job}/compressai-json",
        "/api/v1/leaderboard?image_set_id={set}&metric=psnr&anchor=jpeg",
        "/api/v1/leaderboard/codecs/webp?image_set_id={set}",
    ]
    counts = {}
    for label, (set_id, job_id) in (("50", small), ("500", large)):
        for path in paths:
            for read in ("first", "second"):
                with StatementCounter() as counter:
                    response = api.get(path.format(job=job_id, set=set_id))
                assert response.status_code == 200, (path, response.text)
                counts[(label, path, read)] = counter.count
    for (label, path, read), count in counts.items():
        if label == "50":
            assert counts[("500", path, read)] == count, (path, read, count, counts[("500", path, read)])
    assert all(2 <= count <= 12 for count in counts.values()), counts


def test_leaderboard_set_list_needs_the_same_statements_for_two_or_six_sets(api):
    counts = []
    for _ in range(2):
        for _ in range(2 if not counts else 4):
            _job_of(api, 20)
        with StatementCounter() as counter:
            listed = api.get("/api/v1/leaderboard/image-sets", headers=ANONYMOUS).json()
        counts.append((len(listed), counter.count))
    assert [n for n, _ in counts] == [2, 6] and all(s["images"] == 5 for s in listed)
    assert counts[0][1] == counts[1][1], counts


def test_partial_results_never_mix_image_subsets_in_a_mean_curve(api):
    """While a job runs (issue 33): jpeg has finished all three images, the learned codec only the first (the
    second half-done), webp none. Every mean point and BD-rate averages image 1 alone, for both plotted codecs;
    webp waits as pending; points are marked incomplete and the answer says 1 of 3 images."""
    codecs = {"jpeg": POINTS, "licbench-multirate": POINTS, "webp": POINTS}
    with _engine().begin() as connection:
        set_id, images = insert_image_set(connection, _owner_id(api), 3, "partial", visibility="public")
        every = list(synthetic_results(images, codecs, seed=3))
        # image 1 is hard (low PSNR): averaging it against the easy images would flatter the slower codec
        for row in every:
            if row["image_id"] == images[0]:
                row["metrics"] = {**row["metrics"], "psnr": row["metrics"]["psnr"] - 6}
        rows = [
            r
            for r in every
            if r["codec"] == "jpeg"
            or (
                r["codec"] == "licbench-multirate"
                and (r["image_id"] == images[0] or (r["image_id"] == images[1] and r["rate_point"] < 50))
            )
        ]
        job_id = insert_job(connection, _owner_id(api), set_id, codecs, ["psnr"], rows, status="running")
    rd = api.get(f"/api/v1/jobs/{job_id}/rd", params={"metric": "psnr"}).json()
    assert rd == RDCurvesOut.model_validate(rd).model_dump(mode="json")
    assert (rd["images_common"], rd["images_total"], rd["complete"], rd["pending_codecs"]) == (1, 3, False, ["webp"])
    on_image_1 = [r for r in rows if r["image_id"] == images[0]]
    assert_close(
        rd["curves"],
        [
            {**c, "points": [{**p, "complete": False} for p in c["points"]]}
            for c in python_rd_curves(on_image_1, "psnr", False)
        ],
    )
    assert {c["codec"] for c in rd["curves"]} == {"jpeg", "licbench-multirate"}
    assert all(p["images"] == 1 for c in rd["curves"] for p in c["points"])
    bd = api.get(f"/api/v1/jobs/{job_id}/bd-rate", params={"anchor": "jpeg", "metric": "psnr"}).json()
    curves = {codec: curve.xy("psnr") for codec, curve in average_rd_points(on_image_1).items()}
    curves["webp"] = ([], [])
    expected = compare_to_anchor(curves, "jpeg", "psnr", True)
    learned = next(r for r in bd["rows"] if r["codec"] == "licbench-multirate")
    assert learned["bd_rate"]["value"] == pytest.approx(
        next(c for c in expected if c.codec == "licbench-multirate").bd_rate.value, abs=1e-9
    )
    assert (bd["images_common"], bd["images_total"], bd["pending_codecs"]) == (1, 3, ["webp"])
    # per image, nothing is restricted: image 2's half-done learned curve is its own
    per_image = api.get(f"/api/v1/jobs/{job_id}/rd", params={"metric": "psnr", "image_id": images[1]}).json()
    assert {c["codec"] for c in per_image["curves"]} == {"jpeg", "licbench-multirate"}


def test_a_running_jobs_bd_rate_compares_only_the_images_both_curves_have(api):
    """While a job runs, webp is complete on one image and jpeg on both: webp's BD-rate is computed on that one
    image's curves (both means over the same image), says so, and avif with no complete image is pending (n/a)."""
    with _engine().begin() as connection:
        set_id, images = insert_image_set(connection, _owner_id(api), 2, "running", visibility="public")
        rows = [
            r
            for r in hand_made_rows(images)
            if r["codec"] == "jpeg"
            or (r["codec"] == "webp" and r["image_id"] == images[0])
            or (r["codec"] == "avif" and r["rate_point"] != POINTS[-1])
        ]
        job_id = insert_job(
            connection,
            _owner_id(api),
            set_id,
            {c: POINTS for c in ("jpeg", "webp", "avif")},
            ["psnr"],
            rows,
            status="running",
        )
    bd = {r["codec"]: r for r in api.get(f"/api/v1/jobs/{job_id}/bd-rate", params={"anchor": "jpeg"}).json()["rows"]}
    one_image = {
        r["codec"]: r
        for r in api.get(f"/api/v1/jobs/{job_id}/bd-rate", params={"anchor": "jpeg", "image_id": images[0]}).json()[
            "rows"
        ]
    }
    assert bd["webp"]["images"] == 1 and bd["webp"]["bd_rate"]["value"] is not None
    assert bd["webp"]["bd_rate"]["value"] == pytest.approx(one_image["webp"]["bd_rate"]["value"], abs=1e-9)
    assert bd["avif"]["bd_rate"]["value"] is None
    answer = api.get(f"/api/v1/jobs/{job_id}/bd-rate", params={"anchor": "jpeg"}).json()
    assert answer["pending_codecs"] == ["avif"] and answer["images_common"] == 1
