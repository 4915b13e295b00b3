"""Screenshots of the real pages for README.md's five-minute tour, saved under docs/img/.

Reuses the browser tests' stack (tests/support/stack.py: migrate, uvicorn, a Celery worker) on the embedded
SQLite database and broker, uploads two of the demo photos as a public set, runs a small job (JPEG, WebP and
licbench-multirate at six rate points, PSNR and MS-SSIM) and photographs the pages a newcomer opens.
The tests never write into docs/; this script is run by hand when the pages change:

    python scripts/screenshots.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from models.photos import load_photo  # noqa: E402
from tests.support.accounts import browser_login  # noqa: E402
from tests.support.browser import launch_chromium, until  # noqa: E402
from tests.support.stack import running_stack  # noqa: E402

PHOTOS = ("astronaut", "coffee")
# Six rate points each, spread so that every pair of curves shares at least four points (a BD-rate needs them).
CODECS = [
    {"name": "jpeg", "rate_points": [10, 20, 30, 50, 70, 85]},
    {"name": "webp", "rate_points": [0, 5, 10, 20, 40, 70]},
    {"name": "licbench-multirate", "rate_points": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]},
]


def png(name: str) -> bytes:
    out = io.BytesIO()
    Image.fromarray(load_photo(name)).save(out, format="PNG")
    return out.getvalue()


def shoot(page, path: Path) -> None:
    """A JPEG of the viewport (small enough to commit: well under 200 KB)."""
    page.screenshot(path=str(path), type="jpeg", quality=80)
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, running_stack("", "", Path(tmp) / "data", startup_timeout=240) as stack:
        with stack.client() as client:
            files = [("files", (f"{name}.png", png(name), "image/png")) for name in PHOTOS]
            answer = client.post("/api/v1/image-sets", data={"name": "tour", "visibility": "public"}, files=files)
            answer.raise_for_status()
            set_id = answer.json()["id"]
            answer = client.post(
                "/api/v1/jobs", json={"image_set_id": set_id, "codecs": CODECS, "metrics": ["psnr", "ms-ssim"]}
            )
            answer.raise_for_status()
            job_id = answer.json()["id"]
        job = stack.wait_for_job(job_id, timeout=1800)
        if job["status"] != "succeeded":
            raise SystemExit(f"the tour job ended {job['status']}: {job}")
        with stack.client() as client:
            result_id = next(
                r["id"]
                for r in client.get(f"/api/v1/jobs/{job_id}/results").json()
                if r["codec"] == "licbench-multirate"
            )

        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            browser_login(page, stack.base_url, stack.user, stack.password)
            page.goto(f"{stack.base_url}/image-sets/{set_id}")
            shoot(page, args.out / "1-image-set.jpg")
            page.goto(f"{stack.base_url}/jobs/{job_id}")
            until(page, "document.getElementById('job-status').textContent === 'succeeded'", timeout=60)
            page.wait_for_selector("#rd-plot .main-svg")
            until(page, "document.querySelectorAll('#bd-table tbody tr').length > 0", timeout=60)
            page.set_viewport_size({"width": 1280, "height": 1040})  # the RD plot and the BD table below it
            page.evaluate("document.getElementById('rd-plot').scrollIntoView()")
            page.evaluate("window.scrollBy(0, -60)")
            shoot(page, args.out / "2-job.jpg")
            page.set_viewport_size({"width": 1280, "height": 860})
            page.goto(f"{stack.base_url}/results/{result_id}")
            page.wait_for_timeout(1500)  # both panes decoded and drawn
            shoot(page, args.out / "3-viewer.jpg")
            page.goto(f"{stack.base_url}/leaderboard?image_set_id={set_id}&metric=psnr&anchor=jpeg")
            page.wait_for_timeout(1500)
            shoot(page, args.out / "4-leaderboard.jpg")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
