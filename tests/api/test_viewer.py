"""The reconstruction viewer's data and error maps (issue 12)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.support.accounts import ANONYMOUS, make_user
from tests.support.benchmarks import run_job, upload_set


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_viewer_data_maps_and_page(api):
    image_set = upload_set(api, "view", sizes=((40, 56),), seed=3)
    job = run_job(api, image_set, {"jpeg": [10, 90], "webp": [50]}, ["psnr"])
    rows = api.get(f"/api/v1/jobs/{job}/results").json()
    low = next(r for r in rows if r["codec"] == "jpeg" and r["rate_point"] == 10)
    detail = api.get(f"/api/v1/results/{low['id']}").json()
    assert detail["bytes"] == low["bytes"] and detail["bpp"] == low["bpp"] and detail["metrics"] == low["metrics"]
    assert detail["image"]["filename"] == "img0.png" and detail["image"]["width"] == 56
    assert {o["codec"] for o in detail["others"]} == {"jpeg", "webp"}
    assert next(o for o in detail["others"] if o["codec"] == "webp")["nearest"] is True

    original = _pixels(api.get(detail["original_url"]).content)
    recon = _pixels(api.get(detail["reconstruction_url"]).content)
    abs_map = _pixels(api.get(detail["maps"]["abs"]).content)
    assert np.array_equal(abs_map, np.clip(np.abs(original - recon) * 4, 0, 255))
    ssim_map = _pixels(api.get(detail["maps"]["ssim"]).content)
    assert ssim_map.shape == original.shape and ssim_map.max() > 0
    high = next(r for r in rows if r["codec"] == "jpeg" and r["rate_point"] == 90)
    high_ssim = _pixels(api.get(f"/api/v1/results/{high['id']}/maps/ssim").content)
    assert high_ssim.mean() < ssim_map.mean()  # less error at the higher quality
    assert api.get(f"/api/v1/results/{low['id']}/maps/nope").status_code == 422

    page = api.get(f"/results/{low['id']}")
    assert page.status_code == 200 and 'id="pane-left"' in page.text and "img0.png" in page.text
    # private set: strangers see nothing
    stranger = make_user("stranger")
    assert api.get(f"/results/{low['id']}", headers=ANONYMOUS).status_code == 401
    assert api.get(f"/api/v1/results/{low['id']}/maps/abs", headers=stranger.headers).status_code == 403


def test_job_pages_and_lists_show_owner_times_and_file_names(api):
    image_set = upload_set(api, "listed", sizes=((40, 48), (48, 40)), seed=9)
    job = run_job(api, image_set, {"jpeg": [20, 80]}, ["psnr"])
    csv_text = api.get(f"/api/v1/jobs/{job}/results?format=csv").text
    header, first = csv_text.splitlines()[:2]
    assert header.startswith("id,image_id,filename,codec") and ",img0.png," in first
    page = api.get(f"/jobs/{job}").text
    assert 'id="job-header"' in page and 'id="job-owner">tester<' in page and 'id="rd-xscale"' in page
    assert 'id="filter-codec"' in page and 'id="page-next"' in page
    jobs_page = api.get("/jobs?status=succeeded").text
    assert f'href="/jobs/{job}"' in jobs_page and "tester" in jobs_page
    assert f'href="/jobs/{job}"' not in api.get("/jobs", headers=ANONYMOUS).text  # private set
    sets_page = api.get("/image-sets?mine=true").text
    assert "listed" in sets_page and "private" in sets_page
    form = api.get(f"/image-sets/{image_set['id']}").text
    assert 'value="jpeg" checked' in form and 'id="toggle-visibility"' in form
    per_image = api.get(
        f"/api/v1/jobs/{job}/bd-rate", params={"anchor": "jpeg", "image_id": image_set["images"][0]["id"]}
    )
    assert per_image.status_code == 200 and per_image.json()["image_id"] == image_set["images"][0]["id"]
