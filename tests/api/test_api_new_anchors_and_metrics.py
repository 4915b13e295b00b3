"""A job over the HEVC-intra and JPEG 2000 anchors scored with vif, vifp and flip, its tasks run
in-process by the function the Celery task calls: rows stored per rate point, flip's viewing
condition stored beside its value, and the RD curve answers metric=vif."""

from __future__ import annotations

from tests.support.images import png_bytes, random_photo

POINTS = {"heic": [20, 70], "heic-444": [20, 70], "jpeg2000": [29, 41]}


def test_anchors_and_metrics_run_end_to_end(api):
    from app.db.session import session_factory
    from app.services.jobs import jobs
    from app.services.storage import default_storage
    from engine import benchmark

    image_set = api.post(
        "/api/v1/image-sets",
        data={"name": "anchors"},
        files=[("files", ("a.png", png_bytes(random_photo(96, 128, seed=9)), "image/png"))],
    ).json()
    job_id = api.post(
        "/api/v1/jobs",
        json={
            "image_set_id": image_set["id"],
            "metrics": ["psnr", "vif", "vifp", "flip"],
            "codecs": [{"name": name, "rate_points": points} for name, points in POINTS.items()],
        },
    ).json()["id"]
    image_id = image_set["images"][0]["id"]
    for name, points in POINTS.items():
        for point in points:
            benchmark.run_task(session_factory(), default_storage(), jobs.TaskSpec(job_id, image_id, name, point))
    assert api.get(f"/api/v1/jobs/{job_id}").json()["status"] == "succeeded"

    results = api.get(f"/api/v1/jobs/{job_id}/results").json()
    rows = results["results"] if isinstance(results, dict) else results
    assert len(rows) == 6
    for row in rows:
        assert row["bpp"] > 0
        assert 0 < row["metrics"]["vif"] <= 1.0 and 0 < row["metrics"]["vifp"] <= 1.0
        assert 0 < row["metrics"]["flip"] < 1
        assert "pixels per degree" in row["metric_notes"]["flip"] and "vif" not in row["metric_notes"]
    by_codec = {}
    for row in rows:
        by_codec.setdefault(row["codec"], []).append((row["rate_point"], row["bpp"], row["metrics"]["vif"]))
    for name, points in by_codec.items():
        low, high = sorted(points)
        assert low[1] < high[1] and low[2] < high[2], name  # more rate: more bits, more information kept

    rd = api.get(f"/api/v1/jobs/{job_id}/rd?metric=vif")
    assert rd.status_code == 200, rd.text
