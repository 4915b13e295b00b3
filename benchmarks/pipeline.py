"""Benchmark: licbench's worker pipeline vs a plain serial loop in the style of CompressAI's eval_model.

Same images (8 photos, 512x768), same codecs (JPEG + two learned architectures x 4 rate points), same
metrics (PSNR, MS-SSIM), same machine, same run. Prints both wall times, the ratio, and the service
overhead: (wall time x worker processes - compute time inside tasks) / compute time.

    python benchmarks/pipeline.py [--workers 2]
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.base import CodecContext  # noqa: E402
from models.photos import DEMO_PHOTOS, TRAINING_PHOTOS, load_photo  # noqa: E402
from models.registry import build_codecs  # noqa: E402

HEIGHT, WIDTH = 512, 768
LEARNED_CANDIDATES = ("tiny-hyperprior", "licbench-multirate")


def photos() -> dict[str, np.ndarray]:
    """Eight offline photos, centre-cropped to the 2:3 aspect and resized to 512x768."""
    out = {}
    for name in (DEMO_PHOTOS + TRAINING_PHOTOS)[:8]:
        img = Image.fromarray(load_photo(name))
        w, h = img.size
        target = WIDTH / HEIGHT
        if w / h > target:
            new_w = int(h * target)
            img = img.crop(((w - new_w) // 2, 0, (w - new_w) // 2 + new_w, h))
        else:
            new_h = int(w / target)
            img = img.crop((0, (h - new_h) // 2, w, (h - new_h) // 2 + new_h))
        out[name] = np.asarray(img.resize((WIDTH, HEIGHT), Image.LANCZOS))
    return out


def selection(codecs) -> list[tuple[str, list[float]]]:
    chosen = [("jpeg", [20.0, 40.0, 60.0, 80.0])]
    for name in LEARNED_CANDIDATES:
        codec = codecs.get(name)
        if codec is None or not codec.availability().available:
            raise SystemExit(f"benchmark needs codec {name!r}: {codec.availability().reason if codec else 'missing'}")
        points = list(codec.rate.points)
        idx = np.linspace(0, len(points) - 1, 4).round().astype(int)
        chosen.append((name, [float(points[i]) for i in idx]))
    return chosen


def serial_baseline(images, chosen) -> float:
    """eval_model style: per codec and rate point, load the model, then loop over images; metrics each time."""
    from pytorch_msssim import ms_ssim

    start = time.perf_counter()
    for name, points in chosen:
        for rate_point in points:
            codec = build_codecs(CodecContext())[name]  # a new context, an empty network cache:
            # eval_model loads each checkpoint afresh
            for image in images.values():
                data = codec.encode(image, rate_point)
                recon = codec.decode(data)
                x = torch.from_numpy(image).permute(2, 0, 1)[None].float()
                y = torch.from_numpy(recon).permute(2, 0, 1)[None].float()
                mse = torch.mean((x - y) ** 2).item()
                _ = 10 * np.log10(255**2 / max(mse, 1e-10))
                _ = ms_ssim(x, y, data_range=255).item()
    return time.perf_counter() - start


def service_run(images, chosen, workers: int) -> tuple[float, float, int]:
    """Upload, queue and wait for the job through the real web server and Celery worker processes."""
    from tests.stack import running_stack

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        with running_stack(f"sqlite:///{data_dir / 'db.sqlite'}", f"sqla+sqlite:///{data_dir / 'broker.sqlite'}",
                           data_dir, concurrency=workers) as stack, stack.client() as client:
            files = []
            for name, image in images.items():
                buffer = io.BytesIO()
                Image.fromarray(image).save(buffer, format="PNG")
                files.append(("files", (f"{name}.png", buffer.getvalue(), "image/png")))
            image_set = client.post("/api/v1/image-sets", data={"name": "bench"}, files=files).json()
            start = time.perf_counter()
            job = client.post("/api/v1/jobs", json={"image_set_id": image_set["id"], "metrics": ["psnr", "ms-ssim"],
                                                    "codecs": [{"name": n, "rate_points": p} for n, p in chosen]}).json()
            finished = stack.wait_for_job(job["id"], timeout=3600)
            wall = time.perf_counter() - start
            if finished["status"] != "succeeded":
                raise SystemExit(f"job failed: {finished['error']}")
            results = client.get(f"/api/v1/jobs/{job['id']}/results").json()
    compute = sum(r["encode_seconds"] + r["decode_seconds"] + r["metrics_seconds"] for r in results)
    return wall, compute, len(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    images = photos()
    chosen = selection(build_codecs(CodecContext()))
    tasks = len(images) * sum(len(p) for _, p in chosen)
    print(f"{len(images)} images {HEIGHT}x{WIDTH}, codecs {chosen}, metrics psnr+ms-ssim: {tasks} encode/decode/score tasks")
    threads = torch.get_num_threads()
    baseline = serial_baseline(images, chosen)
    print(f"serial eval_model-style loop ({threads} torch threads, the default): {baseline:8.1f} s")
    torch.set_num_threads(1)
    single = serial_baseline(images, chosen)
    torch.set_num_threads(threads)
    print(f"serial eval_model-style loop (1 torch thread, for context): {single:8.1f} s")
    wall, compute, n = service_run(images, chosen, args.workers)
    print(f"licbench ({args.workers} worker processes): {wall:8.1f} s wall for {n} results "
          f"(compute inside tasks {compute:.1f} s)")
    print(f"speed-up licbench / serial   : {baseline / wall:8.2f}x  (vs the 1-thread loop: {single / wall:.2f}x)")
    overhead = (wall * args.workers - compute) / compute
    print(f"service overhead (queue + DB + idle) : {100 * overhead:6.1f} % of compute")


if __name__ == "__main__":
    main()
