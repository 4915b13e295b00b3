"""Benchmark: what a job page costs a browser, with Plotly served plain vs compressed, cold vs warm cache.

One run starts the service on the embedded defaults (uvicorn + one worker, SQLite, no Redis), runs a small JPEG
job to completion, then loads its page in Debian's Chromium (Playwright) four ways:

- ``plain``: the browser asks for no compression (``Accept-Encoding: identity``), as the bundle was served before
  (4.8 MB on every cold load);
- ``compressed``: the browser's own ``Accept-Encoding`` (gzip; the bundle from its content-hashed URL);

each with a cold cache (a fresh browser context) and then warm (the same context, a second navigation). It prints
the bytes transferred over the network (Resource Timing ``transferSize``, so cache hits count 0), the decoded
size, and the time to the load event, median of ``--repeats`` loads; then the compressed/plain ratios.
Loopback hides network time: the bytes are the figure that matters on a real link; load time here is mostly
parsing and running Plotly.

    python benchmarks/pages.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.browser import CHROMIUM, launch_chromium  # noqa: E402
from tests.support.stack import running_stack  # noqa: E402

MEASURE = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  const all = [nav, ...resources];
  return {
    transfer: all.reduce((s, e) => s + (e.transferSize || 0), 0),
    decoded: all.reduce((s, e) => s + (e.decodedBodySize || 0), 0),
    plotly_transfer: resources.filter((e) => e.name.includes("/vendor/plotly")).reduce((s, e) => s + e.transferSize, 0),
    load_ms: nav.loadEventEnd - nav.startTime,
  };
}"""


def png(seed: int, size: int = 128) -> bytes:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // 8, size // 8, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(small).resize((size, size), Image.BICUBIC).save(buffer, format="PNG")
    return buffer.getvalue()


def finished_job(stack) -> int:
    with stack.client() as client:
        files = [("files", (f"p{i}.png", png(i), "image/png")) for i in range(2)]
        image_set = client.post(
            "/api/v1/image-sets", data={"name": "pages benchmark", "visibility": "public"}, files=files
        )
        image_set.raise_for_status()
        job = client.post(
            "/api/v1/jobs",
            json={
                "image_set_id": image_set.json()["id"],
                "metrics": ["psnr"],
                "codecs": [{"name": "jpeg", "rate_points": [20, 40, 60, 80]}],
            },
        )
        job.raise_for_status()
    done = stack.wait_for_job(job.json()["id"], timeout=600)
    if done["status"] != "succeeded":
        raise SystemExit(f"the benchmark job did not succeed: {done}")
    return done["id"]


def load(page, url: str) -> dict:
    page.goto(url, wait_until="load")
    page.wait_for_selector("#rd-plot .scatterlayer .trace", timeout=60_000)
    return page.evaluate(MEASURE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="page loads per case (median printed)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory() as folder,
        running_stack("", "", Path(folder), concurrency=1, startup_timeout=300) as stack,
    ):
        url = f"{stack.base_url}/jobs/{finished_job(stack)}"
        results: dict[tuple[str, str], list[dict]] = {}
        with sync_playwright() as p:
            browser = launch_chromium(p)
            for mode, headers in (("plain", {"Accept-Encoding": "identity"}), ("compressed", {})):
                for _ in range(args.repeats):
                    context = browser.new_context(extra_http_headers=headers)
                    page = context.new_page()
                    results.setdefault((mode, "cold"), []).append(load(page, url))
                    results.setdefault((mode, "warm"), []).append(load(page, url))
                    context.close()
            browser.close()
    print(f"job page {url.split('/jobs/')[1]}, median of {args.repeats} loads per case (Chromium, loopback)")
    print(f"{'case':<18}{'transferred KiB':>16}{'Plotly KiB':>12}{'decoded KiB':>13}{'load ms':>10}")
    medians = {}
    for (mode, cache), runs in results.items():
        m = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        medians[(mode, cache)] = m
        print(
            f"{mode + ' ' + cache:<18}{m['transfer'] / 1024:>16.1f}{m['plotly_transfer'] / 1024:>12.1f}"
            f"{m['decoded'] / 1024:>13.1f}{m['load_ms']:>10.0f}"
        )
    for cache in ("cold", "warm"):
        plain, packed = medians[("plain", cache)], medians[("compressed", cache)]
        ratio = packed["transfer"] / plain["transfer"] if plain["transfer"] else float("nan")
        print(
            f"{cache}: compressed/plain transferred bytes {ratio:.3f}, load time "
            f"{packed['load_ms'] / plain['load_ms']:.2f}x"
        )


if __name__ == "__main__":
    main()
