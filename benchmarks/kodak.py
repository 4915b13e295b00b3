"""licbench-multirate on Kodak (24 photos, 768x512) against CompressAI's published Kodak curves.

    python scripts/fetch_photos.py kodak        # once: copies the photos from the fetched Zelex/images mirror
    python benchmarks/kodak.py                  # all 24 photos, the codec's default rate points, 1 CPU thread
    python benchmarks/kodak.py --images 4 --threads 2 --json kodak.json
    python benchmarks/kodak.py --shard 1/3 --json k1.json & ...   # one process per shard (each on 1 thread), then
    python benchmarks/kodak.py --combine k1.json k2.json k3.json  # the table from their rows

What a job does to each image, done here without the server: the PNG is read as an upload is
(``app.services.datasets.image_normalization.normalize_image``), the codec comes from the registry (``models.registry``,
the shipped checkpoint unless ``--checkpoint``), every default rate point is a real round trip
(``models.measure.measure``: bpp from the whole container, decoding from the bytes alone) and PSNR-RGB is the
``psnr`` metric as the worker scores it (``metrics.scoring``). bpp and PSNR are averaged over the images per rate
point, as CompressAI's ``compressai.utils.eval_model`` averages (the arithmetic mean of the per-image values,
``analysis.rd.average_rd_points``). BD-rate is PCHIP over the PSNR range both curves cover (``analysis.bd_rate``,
the ``bjontegaard`` package) against the published curves of ``analysis.compressai_json`` (CompressAI commit
and path in each file's ``source``).

Decode seconds per image are timed on ``--threads`` CPU threads (1 by default) and, when CUDA is present, on the
GPU too. Kodak is a TEST set: nothing here may feed back into training, tuning or checkpoint choice.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.photo_manifest import PhotoSetError, load_manifest, verify_photos  # noqa: E402

MANIFEST = ROOT / "benchmarks" / "data" / "kodak_manifest.json"
CODEC = "licbench-multirate"
# the published curves the issue names, in the order the table prints them (PSNR-optimised models only)
ZOO_ANCHORS = ("bmshj2018-factorized", "bmshj2018-hyperprior", "mbt2018-mean", "mbt2018")
CLASSICAL_ANCHORS = ("JPEG", "WebP", "BPG 4:4:4", "AV1", "VTM")
VBR_ANCHORS = ("bmshj2018-hyperprior-vbr", "mbt2018-mean-vbr", "mbt2018-vbr")


def kodak_paths(root: Path = ROOT) -> list[Path]:
    """The 24 photos, each checked against the committed manifest (``PhotoSetError`` names what is wrong)."""
    return verify_photos(load_manifest(MANIFEST), root)


def published_anchors() -> dict:
    from analysis.compressai_json import published_kodak_anchors, published_reference_curves

    zoo, others = published_reference_curves(), published_kodak_anchors()
    return {name: (zoo.get(name) or others.get(name)) for name in (*CLASSICAL_ANCHORS, *ZOO_ANCHORS, *VBR_ANCHORS)}


def load_images(paths: list[Path]) -> dict:
    from app.services.datasets.image_normalization import normalize_image
    from app.settings import get_settings

    limit = get_settings().max_image_pixels
    return {p.name: normalize_image(p.name, p.read_bytes(), limit).pixels for p in paths}


def build_codec(checkpoint: Path | None, device: str):
    from app.settings import get_settings
    from models.base import CodecContext
    from models.registry import build_codecs

    codec = build_codecs(CodecContext(weights_dir=get_settings().weights_dir, device=device))[CODEC]
    if checkpoint is not None:
        from models.multirate.codec import MultiRateCodec

        codec = MultiRateCodec(checkpoint=checkpoint, context=codec.context)
    availability = codec.availability()
    if not availability.available:
        raise SystemExit(f"error: {CODEC} is not available: {availability.reason}")
    return codec


def run_cpu(codec, images: dict) -> tuple[list[dict], list[float]]:
    """Every image at every default rate point, scored as the worker scores; rows and decode seconds."""
    from metrics.registry import build_metrics
    from metrics.scoring import prepare_reference, score_prepared
    from models.measure import measure

    metrics = [build_metrics(names=["psnr"])["psnr"]]
    rows, decode_s = [], []
    for index, (filename, pixels) in enumerate(images.items(), 1):
        reference = prepare_reference(pixels, metrics)  # once per image for all its reconstructions, as the worker
        started = time.perf_counter()
        for rate_point in codec.rate.points:
            m = measure(codec, reference.reference, rate_point)
            psnr = score_prepared(reference, [m.reconstruction])[0]["psnr"].value
            rows.append(
                {
                    "codec": CODEC,
                    "image": filename,
                    "rate_point": rate_point,
                    "bpp": m.bpp,
                    "metrics": {"psnr": psnr},
                    "encode_s": m.encode_seconds,
                    "decode_s": m.decode_seconds,
                }
            )
            decode_s.append(m.decode_seconds)
        print(f"  [{index}/{len(images)}] {filename}: {time.perf_counter() - started:.1f} s", flush=True)
    return rows, decode_s


def gpu_decode_seconds(checkpoint: Path | None, images: dict, rate_points: tuple[float, ...]) -> list[float] | None:
    """Decode seconds per image on CUDA (after one warm-up round trip), or None without a GPU."""
    import torch

    if not torch.cuda.is_available():
        return None
    from models.measure import measure

    codec = build_codec(checkpoint, "cuda")
    first = next(iter(images.values()))
    measure(codec, first, rate_points[0])  # loads the network and warms the kernels up
    seconds = []
    for pixels in images.values():
        for rate_point in rate_points:
            data = codec.encode(pixels, rate_point)
            torch.cuda.synchronize()
            started = time.perf_counter()
            codec.decode(bytes(data))
            torch.cuda.synchronize()
            seconds.append(time.perf_counter() - started)
    return seconds


def bd_table(curve: tuple[list[float], list[float]], anchors: dict) -> list[dict]:
    """BD-rate (and BD-PSNR) of ``curve`` against every published anchor (PCHIP, overlapping PSNR range)."""
    from analysis.bd_rate import bd_quality, bd_rate

    table = []
    for name, anchor in anchors.items():
        if anchor is None:
            table.append({"anchor": name, "bd_rate_pct": None, "reason": "published curve not shipped"})
            continue
        bpp, psnr = anchor.xy("psnr")
        rate = bd_rate(bpp, psnr, *curve, metric="psnr")
        quality = bd_quality(bpp, psnr, *curve, metric="psnr")
        table.append(
            {
                "anchor": name,
                "bd_rate_pct": rate.value,
                "bd_psnr_db": quality.value,
                "reason": rate.reason,
                "overlap_psnr": rate.overlap,
                "points_in_overlap": {"anchor": rate.points[0], "test": rate.points[1]},
                "source": (anchor.source or {}).get("path"),
            }
        )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=24, help="the first N Kodak photos (quick runs; default 24)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1, as the timing says)")
    parser.add_argument("--checkpoint", type=Path, help="another multirate.pth (default: the shipped one)")
    parser.add_argument("--json", type=Path, help="also write the curve, the BD table and the timings here")
    parser.add_argument("--shard", default="1/1", help="I/N: only every N-th photo from the I-th (parallel runs)")
    parser.add_argument(
        "--combine",
        type=Path,
        nargs="+",
        metavar="JSON",
        help="no run: the table from the rows of earlier --json files (e.g. one per --shard)",
    )
    args = parser.parse_args(argv)
    try:
        shard, shards = (int(v) for v in args.shard.split("/"))
    except ValueError:
        shard = shards = 0
    if not 1 <= args.images <= 24 or args.threads < 1 or not 1 <= shard <= shards:
        parser.error("--images must be in 1..24, --threads at least 1 and --shard I/N with 1 <= I <= N")
    if args.combine:
        return report(combined_rows(args.combine), args)
    try:
        paths = kodak_paths()[: args.images][shard - 1 :: shards]
    except PhotoSetError as exc:
        print(f"error: the Kodak photos are not in place: {exc}", file=sys.stderr)
        return 2

    import torch

    torch.set_num_threads(args.threads)
    images = load_images(paths)
    codec = build_codec(args.checkpoint, "cpu")
    print(
        f"{CODEC} ({codec.checkpoint}) on {len(images)} Kodak photos, {len(codec.rate.points)} default rate "
        f"points, {args.threads} CPU thread(s)",
        flush=True,
    )
    rows, _ = run_cpu(codec, images)
    gpu = gpu_decode_seconds(args.checkpoint, images, codec.rate.points)
    return report(
        {"checkpoint": str(codec.checkpoint), "threads": args.threads, "rows": rows, "decode_s_gpu": gpu}, args
    )


def combined_rows(paths: list[Path]) -> dict:
    """The rows (and GPU timings) of several ``--json`` files of the same checkpoint and thread count."""
    parts = [json.loads(Path(p).read_text()) for p in paths]
    if len({(p["checkpoint"], p["threads"]) for p in parts}) != 1:
        raise SystemExit("error: --combine needs files of one checkpoint and one thread count")
    images = [row["image"] for p in parts for row in p["rows"]]
    if len(set(images)) * len({row["rate_point"] for p in parts for row in p["rows"]}) != len(images):
        raise SystemExit("error: --combine got a photo twice or a photo without every rate point")
    gpu = [s for p in parts for s in (p.get("decode_s_gpu") or [])]
    return {
        "checkpoint": parts[0]["checkpoint"],
        "threads": parts[0]["threads"],
        "rows": [row for p in parts for row in p["rows"]],
        "decode_s_gpu": gpu or None,
    }


def report(run: dict, args: argparse.Namespace) -> int:
    """Print (and with ``--json`` write) the RD points, the BD table and the decode times of ``run``'s rows."""
    from analysis.rd import average_rd_points

    rows, gpu = run["rows"], run["decode_s_gpu"]
    images = sorted({row["image"] for row in rows})
    decode_s = [row["decode_s"] for row in rows]
    curve = average_rd_points(rows)[CODEC]
    xy = curve.xy("psnr")
    print("\nRD points (mean over images, as compressai.utils.eval_model): rate point, bpp, PSNR-RGB dB")
    for p in curve.points:
        print(f"  {p.rate_point:6.4f}  {p.bpp:6.4f}  {p.metrics['psnr']:6.3f}")
    if len(images) < 24:
        print(f"  (only {len(images)} of the 24 photos: the BD-rates below compare with 24-photo curves)")

    table = bd_table(xy, published_anchors())
    print("\nBD-rate of licbench-multirate vs CompressAI's published Kodak curves (PSNR-RGB, PCHIP, overlap)")
    print(f"  {'published curve':26s} {'BD-rate':>9s} {'BD-PSNR':>9s}  overlap (dB), points anchor/ours")
    for row in table:
        if row["bd_rate_pct"] is None:
            print(f"  {row['anchor']:26s} {'n/a':>9s}            {row['reason']}")
            continue
        lo, hi = row["overlap_psnr"]
        print(
            f"  {row['anchor']:26s} {row['bd_rate_pct']:+8.1f}% {row['bd_psnr_db']:+8.2f}   {lo:.2f}-{hi:.2f}, "
            f"{row['points_in_overlap']['anchor']}/{row['points_in_overlap']['test']}"
        )

    print(
        f"\nDecode seconds per Kodak image, {run['threads']} CPU thread(s): mean {statistics.fmean(decode_s):.3f}, "
        f"median {statistics.median(decode_s):.3f} (over {len(decode_s)} decodes)"
    )
    print(
        "GPU decode seconds per image: "
        + (
            "no CUDA device here"
            if gpu is None
            else f"mean {statistics.fmean(gpu):.4f}, median {statistics.median(gpu):.4f}"
        )
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "codec": CODEC,
                    "checkpoint": run["checkpoint"],
                    "images": images,
                    "threads": run["threads"],
                    "curve": [
                        {"rate_point": p.rate_point, "bpp": p.bpp, "psnr": p.metrics["psnr"]} for p in curve.points
                    ],
                    "bd": table,
                    "decode_s_cpu": decode_s,
                    "decode_s_gpu": gpu,
                    "rows": rows,
                },
                indent=1,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
