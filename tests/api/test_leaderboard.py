"""GET /api/v1/leaderboard (issue 12): ranking checked against BD-rates computed here from the result rows
with our own PCHIP integration (scipy), n/a rows last with the reason, public image sets only."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.interpolate import PchipInterpolator

from tests.support.accounts import ANONYMOUS
from tests.support.benchmarks import run_job, upload_set

QUALITIES = [20, 40, 60, 80, 90]


def _mean_curve(rows: list[dict], codec: str, metric: str) -> tuple[np.ndarray, np.ndarray]:
    by_point = defaultdict(list)
    for row in rows:
        if row["codec"] == codec:
            by_point[row["rate_point"]].append((row["bpp"], row["metrics"][metric]))
    points = sorted((np.mean([b for b, _ in v]), np.mean([q for _, q in v])) for v in by_point.values())
    return np.array([b for b, _ in points]), np.array([q for _, q in points])


def _bd_rate(anchor, test) -> float:
    """Bjontegaard delta rate: mean difference of log-rate as PCHIP functions of quality over the common
    quality range, as a percentage."""
    (ra, qa), (rt, qt) = anchor, test
    fa = PchipInterpolator(qa[np.argsort(qa)], np.log(ra[np.argsort(qa)]))
    ft = PchipInterpolator(qt[np.argsort(qt)], np.log(rt[np.argsort(qt)]))
    lo, hi = max(qa.min(), qt.min()), min(qa.max(), qt.max())
    diff = quad(lambda q: ft(q) - fa(q), lo, hi, limit=200)[0] / (hi - lo)
    return (np.exp(diff) - 1) * 100


@pytest.fixture
def board_job(api):
    image_set = upload_set(api, "public board", sizes=((64, 96), (80, 72)), visibility="public", seed=20)
    job = run_job(
        api,
        image_set,
        {"jpeg": QUALITIES, "jpeg-444": QUALITIES, "webp": [10, 30, 50, 70, 90], "avif": [30, 60]},
        ["psnr", "ssim"],
    )
    assert api.get(f"/api/v1/jobs/{job}").json()["status"] == "succeeded"
    return image_set, job


def test_ranking_matches_independently_computed_bd_rates(api, board_job):
    image_set, job = board_job
    rows = api.get(f"/api/v1/jobs/{job}/results").json()
    body = api.get(
        "/api/v1/leaderboard",
        params={"image_set_id": image_set["id"], "metric": "psnr", "anchor": "jpeg"},
        headers=ANONYMOUS,
    ).json()
    assert (body["image_set_id"], body["metric"], body["anchor"]) == (image_set["id"], "psnr", "jpeg")
    board = {r["codec"]: r for r in body["rows"]}
    anchor = _mean_curve(rows, "jpeg", "psnr")
    expected = {codec: _bd_rate(anchor, _mean_curve(rows, codec, "psnr")) for codec in ("jpeg-444", "webp")}
    expected["jpeg"] = 0.0
    for codec, value in expected.items():
        assert board[codec]["bd_rate"] == pytest.approx(value, rel=1e-3, abs=1e-3), codec
    ranked = [r["codec"] for r in body["rows"] if r["rank"] is not None]
    assert ranked == sorted(expected, key=expected.get)
    assert [r["rank"] for r in body["rows"] if r["rank"] is not None] == [1, 2, 3]
    # avif has 2 rate points: n/a, last, with the reason
    assert body["rows"][-1]["codec"] == "avif" and body["rows"][-1]["bd_rate"] is None
    assert body["rows"][-1]["rank"] is None and "need at least 4" in body["rows"][-1]["note"]
    webp = board["webp"]
    bpp, _ = _mean_curve(rows, "webp", "psnr")
    assert webp["bpp_min"] == pytest.approx(bpp.min()) and webp["bpp_max"] == pytest.approx(bpp.max())
    assert webp["rate_points"] == [10, 30, 50, 70, 90] and webp["job_id"] == job and webp["kind"] == "classical"
    assert webp["encode_seconds"] > 0 and webp["device"] == "cpu"
    for key in (
        "rank",
        "codec",
        "kind",
        "bd_rate",
        "bd_quality",
        "bpp_min",
        "bpp_max",
        "rate_points",
        "encode_seconds",
        "decode_seconds",
        "device",
        "job_id",
        "note",
    ):
        assert key in webp

    # another anchor and metric re-rank
    other = api.get(
        "/api/v1/leaderboard", params={"image_set_id": image_set["id"], "metric": "ssim", "anchor": "jpeg-444"}
    ).json()
    assert next(r for r in other["rows"] if r["codec"] == "jpeg-444")["bd_rate"] == 0.0
    jpeg = next(r for r in other["rows"] if r["codec"] == "jpeg")
    expected_jpeg = _bd_rate(_mean_curve(rows, "jpeg-444", "ssim"), _mean_curve(rows, "jpeg", "ssim"))
    assert jpeg["bd_rate"] == pytest.approx(expected_jpeg, rel=1e-3), jpeg["note"]

    # pages: the table and a codec page with a curve per metric
    page = api.get(f"/leaderboard?image_set_id={image_set['id']}&metric=psnr&anchor=jpeg", headers=ANONYMOUS)
    assert page.status_code == 200 and 'id="leaderboard-table"' in page.text and "need at least 4" in page.text
    curves = api.get(f"/api/v1/leaderboard/codecs/webp?image_set_id={image_set['id']}", headers=ANONYMOUS).json()
    assert set(curves["metrics"]) == {"psnr", "ssim"} and len(curves["metrics"]["psnr"]["webp"]) == 5
    assert api.get(f"/leaderboard/codecs/webp?image_set_id={image_set['id']}", headers=ANONYMOUS).status_code == 200


def test_newest_results_replace_older_ones_and_private_sets_stay_off(api, board_job):
    image_set, first = board_job
    rerun = run_job(api, image_set, {"jpeg-444": QUALITIES}, ["psnr"])
    body = api.get("/api/v1/leaderboard", params={"image_set_id": image_set["id"]}).json()
    assert next(r for r in body["rows"] if r["codec"] == "jpeg-444")["job_id"] == rerun
    assert next(r for r in body["rows"] if r["codec"] == "jpeg")["job_id"] == first

    private = upload_set(api, "mine only", sizes=((48, 48),))
    answer = api.get("/api/v1/leaderboard", params={"image_set_id": private["id"]})
    assert answer.status_code == 403 and "public" in answer.json()["detail"]
    assert api.get("/api/v1/leaderboard", params={"image_set_id": 9999}).status_code == 404
    bad = api.get("/api/v1/leaderboard", params={"image_set_id": image_set["id"], "metric": "nope"})
    assert bad.status_code == 422
    missing_anchor = api.get("/api/v1/leaderboard", params={"image_set_id": image_set["id"], "anchor": "bpg"}).json()
    assert all(r["rank"] is None and "anchor 'bpg'" in r["note"] for r in missing_anchor["rows"])
    sets = api.get("/api/v1/leaderboard/image-sets", headers=ANONYMOUS).json()
    assert [s["id"] for s in sets] == [image_set["id"]]
