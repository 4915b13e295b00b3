"""Evidence for the multi-rate codec (issues 5 and 14), measured in one run on this machine's CPU (1 thread).

0. ``anchors``: the shipped checkpoint's RD curve on the 4 held-out demo photos at 16 rate parameters (real
   bytes, decoded twice: must be identical; monotone?) and its BD-rate (PSNR-RGB, PCHIP, ``bjontegaard``)
   against JPEG 4:2:0, WebP and AVIF (Pillow quality sweeps, restricted to ~0.15-1.0 bpp);
   ``models.training.rd_eval`` does the work.
0b. ``demo-job``: the figure the demo job's own BD table shows (the issue's done-criterion), computed by the
   product's own path: the demo image set as uploaded (``app.services.operations.demo.demo_uploads``, normalised as an
   upload is), every ``--demo-codecs`` codec at its DEFAULT rate points (what the demo job selects), real round
   trips (``models.measure.measure``), the ``psnr`` metric (``metrics.scoring.score``), mean bpp and PSNR over
   images per rate point (``analysis.rd.average_rd_points``) and ``analysis.bd_rate.compare_to_anchor`` against
   ``--demo-anchor``. Unlike ``anchors`` the anchor's curve is not restricted: BD-rate integrates over the PSNR
   range both default sweeps cover, and the part reports that range and how many points of each curve lie in it.
1. ``bd``: a controlled comparison of one multi-rate model against K single-rate models (same architecture,
   data, augmentations and schedule shape; one per trained lambda), every run starting from the same
   checkpoint (``--init-from``) or from scratch: the multi-rate run gets S steps (``--steps``); the single-rate
   models get S steps each (equal per-model steps, the comparison of Cui et al. 2021 and CompressAI's VBR
   models) and S / K steps each (equal total compute). BD-rate of the multi-rate model against each set, on
   the demo photos. Runs are trained on first use and cached under ``--baselines-dir``.
1b. ``refine``: encoder-side latent refinement (``licbench-multirate-refined``, ``models.multirate.refine``):
   the refining encoder and the plain one on the 4 demo photos at the same rate parameters (``--refine-rates``,
   real bytes, the refined files decoded by the plain decoder), encode seconds per megapixel, BD-rate of the
   refined curve against the plain one and against JPEG/WebP/AVIF (as in ``anchors``).
1c. ``refine-tune``: how ``licbench-multirate-refined``'s settings are chosen: the plain encoder and the refining
   encoder at each ``--tune-grid`` setting (steps:lr) on 4 tiles of ``models.photos.TUNING_PHOTOS`` (a photo
   neither trained on nor a demo photo; ``--tune-on validation``: the first ``--tune-crops`` fixed validation
   crops of ``--config`` instead, crops of the training photos, where the amortised encoder has little gap to
   close), real bytes at ``--tune-rates`` rate parameters; BD-rate of each setting against the plain encoder.
1d. ``gap``: the amortisation gap of each ``--gap-checkpoints`` checkpoint (default: the shipped one): the
   rounded-latent RD cost ``lambda * 255^2 * MSE + bpp`` (``models.multirate.refine.rd_cost``, the rate the coder
   spends up to rANS overhead) of the plain encoder's latent and of the refined latent (``--gap-steps``), at
   rates 0.0 and 0.6, on 8 validation crops of the training photos and on the tuning photo's 4 tiles. A gap that
   grows on the tuning tiles while it shrinks on the validation crops means the encoder fits the training photos
   rather than photos in general; a tuning-tile cost that keeps falling means training still generalises.
1e. ``ceiling``: where the high rates lose: for each ``--gap-checkpoints`` checkpoint, on the validation crops and
   on the tuning photo's 4 tiles, the PSNR of ``g_s(g_a(x))`` with the latent NOT quantised (the transforms'
   own reconstruction ceiling: no rate spent can do better) and rounded at rates 0 and 1, the real-bytes point at
   those rates, and JPEG 4:2:0 (Pillow) at the same bpp (interpolated in log-bpp over a quality sweep). If
   the float ceiling sits near the R=1 point, the extra bits of the high rates have nowhere to go and the
   transforms, not the entropy model, hold the curve down.
2. ``speed``: decode time of the checkerboard model vs a serial autoregressive context model (CompressAI's
   ``mbt2018``, ``JointAutoregressiveHierarchicalPriors`` with our transform width as N, our M and our
   channels-last synthesis, RANDOMLY INITIALISED: its weights do not change the work its serial decoding
   loop does, so it is used for timing only) on the same 512x768 image, per megapixel, split into the
   synthesis transform and the rest (hyper-decoder, context model, entropy parameters and rANS decoding).
3. ``scaling``: encode/decode seconds per megapixel and peak memory for 512x768 and 1024x1536 images, each
   size in a fresh subprocess: peak resident memory sampled every 2 ms during encode and during decode, and
   that peak minus the RSS after loading the model and a warm-up ("working" memory of the codec itself).

    python benchmarks/multirate.py --parts anchors speed
    python benchmarks/multirate.py --parts demo-job --threads 2
    python benchmarks/multirate.py --parts bd --steps 200 --init-from CHECKPOINT   # trains 2K+1 runs first
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from models.multirate.codec import MultiRateCodec  # noqa: E402
from models.photos import demo_photos, load_photo  # noqa: E402

SIZES = ((512, 768), (1024, 1536))


def psnr(reference: np.ndarray, decoded: np.ndarray) -> float:
    mse = np.mean((reference.astype(np.float64) - decoded.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse)) if mse > 0 else float("inf")


def rd_point(codec: MultiRateCodec, image: np.ndarray, rate: float) -> tuple[float, float]:
    data = codec.encode(image, rate)
    return 8 * len(data) / (image.shape[0] * image.shape[1]), psnr(image, codec.decode(data))


def benchmark_image(height: int, width: int) -> np.ndarray:
    """The astronaut photo resized (bicubic) to height x width: the same content at every size."""
    return np.asarray(Image.fromarray(load_photo("astronaut")).resize((width, height), Image.BICUBIC))


# --- 1. BD-rate against single-rate models ------------------------------------------------------------


def experiment_config(config_path: Path, lambdas: list[float], steps: int, init_from: Path | None):
    """The training config of one run of the controlled comparison: the multi-rate config (same data,
    augmentations, architecture, schedule shape) with the given lambda set and step count, 128 px crops,
    batch 8, no time budget, warm-up scaled to the run, one evaluation at the end."""
    from models.training.multirate import TrainConfig, load_config

    base = load_config(config_path)
    return TrainConfig(
        **{
            **base.__dict__,
            "lambdas": list(lambdas),
            "steps": int(steps),
            "crop": 128,
            "batch_size": 8,
            "time_budget_s": None,
            "warmup_steps": max(1, steps // 10),
            "eval_every": int(steps),
            "log_every": max(1, steps // 20),
            "num_threads": 1,
            "init_from": str(init_from) if init_from else None,
        }
    )


def trained_run(config, folder: Path) -> Path:
    """``folder/<run>/multirate.pth``, training it first when no finished run is cached there."""
    from models.training.multirate import train

    found = sorted(folder.glob("*/multirate.pth"))
    if found:
        return found[-1]
    print(f"training {folder.name}: lambdas {config.lambdas}, {config.steps} steps", flush=True)
    start = time.perf_counter()
    run_dir = train(config, log_root=folder, progress=False)
    print(f"  done in {time.perf_counter() - start:.0f} s -> {run_dir}", flush=True)
    return run_dir / "multirate.pth"


def comparison_checkpoints(args: argparse.Namespace) -> dict[str, list[Path]]:
    """The controlled comparison (Cui et al. 2021 / CompressAI VBR style), all runs from the same start:
    one multi-rate run of S steps, K single-rate runs of S steps each (equal per-model steps) and K of
    S / K steps each (equal total compute)."""
    from models.training.multirate import load_config

    lambdas = load_config(args.config).lambdas
    K, S = len(lambdas), args.steps
    root = args.baselines_dir / (f"from-{args.init_from.stem}" if args.init_from else "from-scratch")
    out = {
        "multi": [
            trained_run(experiment_config(args.config, lambdas, S, args.init_from), root / f"multi-K{K}-steps{S}")
        ]
    }
    for label, steps in (("single_equal_compute", max(1, S // K)), ("single_equal_steps", S)):
        out[label] = [
            trained_run(
                experiment_config(args.config, [lmbda], steps, args.init_from),
                root / f"single-{k}-lambda{lmbda:g}-steps{steps}",
            )
            for k, lmbda in enumerate(lambdas)
        ]
    return out


def bd_figures(anchor: list, test: list) -> tuple[float, float]:
    """(BD-rate %, BD-PSNR dB) of ``test`` against ``anchor`` (lists of (bpp, psnr)), PCHIP.

    BD-rate needs the two curves to overlap in PSNR and BD-PSNR in rate; where they do not, the figure is
    NaN (undefined) rather than an extrapolation.
    """
    import bjontegaard as bd

    a, t = np.asarray(anchor, dtype=float), np.asarray(test, dtype=float)

    def overlap(column: int) -> bool:
        return min(a[:, column].max(), t[:, column].max()) > max(a[:, column].min(), t[:, column].min())

    rate = (
        float(bd.bd_rate(a[:, 0], a[:, 1], t[:, 0], t[:, 1], method="pchip", min_overlap=0))
        if overlap(1)
        else float("nan")
    )
    psnr_gain = (
        float(bd.bd_psnr(a[:, 0], a[:, 1], t[:, 0], t[:, 1], method="pchip", min_overlap=0))
        if overlap(0)
        else float("nan")
    )
    return rate, psnr_gain


def _pct(value: float) -> str:
    return "undefined (no PSNR overlap)" if np.isnan(value) else f"{value:+.2f}%"


def bd_rate_part(args: argparse.Namespace) -> dict:
    runs = comparison_checkpoints(args)
    multi = MultiRateCodec(checkpoint=runs["multi"][0])
    K = len(multi.lambdas)
    singles = {
        label: [MultiRateCodec(checkpoint=p) for p in runs[label]]
        for label in ("single_equal_steps", "single_equal_compute")
    }
    photos = demo_photos()
    result = {
        "lambdas": list(multi.lambdas),
        "steps_S": args.steps,
        "init_from": str(args.init_from) if args.init_from else None,
        "checkpoints": {k: [str(p) for p in v] for k, v in runs.items()},
        "photos": {},
    }
    for name, image in photos.items():
        row = {
            "shape": list(image.shape[:2]),
            "multirate_trained_points": [rd_point(multi, image, k / (K - 1)) for k in range(K)],
        }
        for label, codecs in singles.items():
            row[label] = [rd_point(codec, image, 0.0) for codec in codecs]
        result["photos"][name] = row
    mean = lambda key: np.mean([v[key] for v in result["photos"].values()], axis=0).tolist()  # noqa: E731
    result["mean_multirate"] = mean("multirate_trained_points")
    for label in singles:
        result[f"mean_{label}"] = mean(label)
        bd_pct, bd_db = bd_figures(result[f"mean_{label}"], result["mean_multirate"])
        result[f"bd_rate_pct_vs_{label}"], result[f"bd_psnr_db_vs_{label}"] = bd_pct, bd_db
        print(
            f"multi-rate ({args.steps} steps) vs K={K} single-rate, {label.replace('single_', '')} "
            f"({runs[label][0].parent.parent.name.split('-steps')[-1]} steps each): BD-rate {_pct(bd_pct)}, "
            f"BD-PSNR {bd_db:+.2f} dB (mean curves over the demo photos)",
            flush=True,
        )
    return result


# --- 0. the shipped checkpoint against classical anchors ---------------------------------------------


def anchors_part(args: argparse.Namespace) -> dict:
    from models.multirate.codec import PACKAGE_WEIGHTS, WEIGHTS_FILE
    from models.training.rd_eval import evaluate

    res = evaluate(args.multirate or PACKAGE_WEIGHTS / WEIGHTS_FILE)
    print(
        "multi-rate, mean over the demo photos (bpp/PSNR dB): "
        + ", ".join(f"{b:.3f}/{p:.2f}" for b, p in res["multirate"]),
        flush=True,
    )
    print(
        f"  {res['distinct_points']} distinct rate points, monotone: {res['monotone']}, "
        "decoding twice gave identical images",
        flush=True,
    )
    for name, a in res["anchors"].items():
        print(f"  BD-rate vs {name}: " + (a["error"] if "error" in a else _pct(a["bd_rate_pct"])), flush=True)
    return res


# --- 0b. the demo job's own BD table -------------------------------------------------------------------


def demo_job_part(args: argparse.Namespace) -> dict:
    from analysis.bd_rate import compare_to_anchor
    from analysis.rd import average_rd_points
    from app.services.datasets.image_normalization import normalize_image
    from app.services.operations.demo import demo_uploads
    from app.settings import get_settings
    from metrics.registry import build_metrics
    from metrics.scoring import prepare_reference, score_prepared
    from models.base import CodecContext
    from models.measure import measure
    from models.registry import build_codecs

    settings = get_settings()
    images = {u.filename: normalize_image(u.filename, u.data, settings.max_image_pixels).pixels for u in demo_uploads()}
    codecs = build_codecs(CodecContext(weights_dir=settings.weights_dir, device="cpu"))
    if args.multirate:
        codecs["licbench-multirate"] = MultiRateCodec(checkpoint=args.multirate)
    names = list(dict.fromkeys([args.demo_anchor, *args.demo_codecs]))
    # as the worker does (engine.benchmark): each reference prepared once for all its reconstructions
    metrics = [build_metrics(names=["psnr"])["psnr"]]
    prepared = {filename: prepare_reference(image, metrics) for filename, image in images.items()}
    rows, skipped = [], {}
    for name in names:
        if name not in codecs:
            skipped[name] = "not a registered codec"
        elif not (availability := codecs[name].availability()).available:
            skipped[name] = availability.reason
        if name in skipped:
            print(f"  {name}: skipped ({skipped[name]})", flush=True)
            continue
        for filename, reference in prepared.items():
            for rate_point in codecs[name].rate.points:
                m = measure(codecs[name], reference.reference, rate_point)
                value = score_prepared(reference, [m.reconstruction])[0]["psnr"].value
                rows.append(
                    {
                        "codec": name,
                        "image": filename,
                        "rate_point": rate_point,
                        "bpp": m.bpp,
                        "metrics": {"psnr": value},
                    }
                )
    curves = average_rd_points(rows)
    out: dict = {"images": list(images), "anchor": args.demo_anchor, "skipped": skipped, "curves": {}, "bd": []}
    for name, curve in curves.items():
        out["curves"][name] = [
            {"rate_point": p.rate_point, "bpp": p.bpp, "psnr": p.metrics.get("psnr")} for p in curve.points
        ]
        print(
            f"  {name} ({len(curve.points)} default rate points, bpp/PSNR dB): "
            + ", ".join(f"{p.bpp:.3f}/{p.metrics['psnr']:.2f}" for p in curve.points),
            flush=True,
        )
    for row in compare_to_anchor({n: c.xy("psnr") for n, c in curves.items()}, args.demo_anchor, "psnr"):
        r = row.bd_rate
        out["bd"].append(
            {
                "codec": row.codec,
                "bd_rate_pct": r.value,
                "reason": r.reason,
                "overlap_psnr": r.overlap,
                "points_in_overlap": {"anchor": r.points[0], "test": r.points[1]},
                "bd_psnr_db": row.bd_quality.value,
            }
        )
        where = (
            f"over {r.overlap[0]:.2f}-{r.overlap[1]:.2f} dB, {r.points[0]} anchor and {r.points[1]} test points"
            if r.overlap
            else ""
        )
        print(
            f"  BD-rate of {row.codec} vs {args.demo_anchor} (demo job's table): "
            + (_pct(r.value) if r.value is not None else f"n/a: {r.reason}")
            + f" {where}",
            flush=True,
        )
    return out


# --- 1b. encoder-side latent refinement ---------------------------------------------------------------


def refine_part(args: argparse.Namespace) -> dict:
    from models.multirate.codec import PACKAGE_WEIGHTS, REFINED_ENCODER, WEIGHTS_FILE
    from models.training.rd_eval import anchor_curve, bd_rate, is_monotone, multirate_curve, restrict

    checkpoint = args.multirate or PACKAGE_WEIGHTS / WEIGHTS_FILE
    # the codec's own settings (step scaling above max_pixels included); only the step count may be overridden
    settings = (
        REFINED_ENCODER if args.refine_steps is None else dataclasses.replace(REFINED_ENCODER, steps=args.refine_steps)
    )
    photos = demo_photos()
    megapixels = sum(im.shape[0] * im.shape[1] for im in photos.values()) / 1e6
    rates = [i / (args.refine_rates - 1) for i in range(args.refine_rates)]
    plain = MultiRateCodec(checkpoint=checkpoint)
    refined = MultiRateCodec(checkpoint=checkpoint, refine=settings)
    out: dict = {"checkpoint": str(checkpoint), "steps": settings.steps, "lr": settings.lr, "rates": rates}
    for label, codec in (("plain", plain), ("refined", refined)):
        start = time.perf_counter()
        curve = multirate_curve(codec, photos, rates)  # decodes with the codec's own (unchanged) decoder
        seconds = time.perf_counter() - start
        out[label] = {
            "points": curve.points,
            "per_photo": curve.per_photo,
            "monotone": is_monotone(curve.points),
            "encode_decode_s_per_mp": seconds / (megapixels * len(rates)),
        }
        print(
            f"{label}: "
            + ", ".join(f"{b:.3f}/{p:.2f}" for b, p in curve.points)
            + f" ({out[label]['encode_decode_s_per_mp']:.1f} s/MP to encode and decode twice)",
            flush=True,
        )
    out["bd_rate_pct_refined_vs_plain"] = bd_rate(out["plain"]["points"], out["refined"]["points"])
    print(f"  BD-rate refined vs plain: {_pct(out['bd_rate_pct_refined_vs_plain'])}", flush=True)
    out["anchors"] = {}
    for name in ("jpeg", "webp", "avif"):
        try:
            anchor = anchor_curve(name, photos).points
        except RuntimeError as exc:
            out["anchors"][name] = {"error": str(exc)}
            continue
        figures = {label: bd_rate(restrict(anchor, 0.15, 1.0), out[label]["points"]) for label in ("plain", "refined")}
        out["anchors"][name] = {"points": anchor, **{f"bd_rate_pct_{k}": v for k, v in figures.items()}}
        print(f"  BD-rate vs {name}: plain {_pct(figures['plain'])}, refined {_pct(figures['refined'])}", flush=True)
    return out


def refine_tune_part(args: argparse.Namespace) -> dict:
    from models.multirate.codec import PACKAGE_WEIGHTS, REFINED_ENCODER, WEIGHTS_FILE
    from models.photos import tuning_crops
    from models.training.rd_eval import bd_rate, multirate_curve, validation_images

    checkpoint = args.multirate or PACKAGE_WEIGHTS / WEIGHTS_FILE
    if args.tune_on == "validation":
        crops = dict(list(validation_images(args.config).items())[: args.tune_crops])
    else:
        crops = tuning_crops()
    rates = [i / (args.tune_rates - 1) for i in range(args.tune_rates)]
    plain = multirate_curve(MultiRateCodec(checkpoint=checkpoint), crops, rates, False).points
    print(f"{args.tune_on} crops ({len(crops)}), plain: " + ", ".join(f"{b:.3f}/{p:.2f}" for b, p in plain), flush=True)
    out: dict = {
        "checkpoint": str(checkpoint),
        "tuned_on": args.tune_on,
        "crops": len(crops),
        "rates": rates,
        "plain": plain,
        "settings": [],
    }
    for item in args.tune_grid:
        steps, lr = item.split(":")
        settings = dataclasses.replace(REFINED_ENCODER, steps=int(steps), lr=float(lr))
        start = time.perf_counter()
        points = multirate_curve(MultiRateCodec(checkpoint=checkpoint, refine=settings), crops, rates, False).points
        row = {
            "steps": settings.steps,
            "lr": settings.lr,
            "points": points,
            "seconds": time.perf_counter() - start,
            "bd_rate_pct_vs_plain": bd_rate(plain, points),
        }
        out["settings"].append(row)
        print(
            f"  {settings.steps} steps, lr {settings.lr}: BD-rate vs plain {_pct(row['bd_rate_pct_vs_plain'])}"
            f" ({row['seconds']:.0f} s)",
            flush=True,
        )
    return out


def held_out_sets(args: argparse.Namespace, validation_count: int | None = None) -> dict[str, list[np.ndarray]]:
    """The gap and ceiling parts' images: validation crops of the training photos (the first
    ``validation_count``, or all) and the tuning photo's tiles (never trained on)."""
    from models.photos import tuning_crops
    from models.training.rd_eval import validation_images

    return {
        "validation": list(validation_images(args.config).values())[:validation_count],
        "tuning": list(tuning_crops().values()),
    }


def compared_codecs(args: argparse.Namespace):
    """(checkpoint, codec, network) for each ``--gap-checkpoints`` entry, or the shipped weights."""
    from models.multirate.codec import PACKAGE_WEIGHTS, WEIGHTS_FILE

    for checkpoint in args.gap_checkpoints or [PACKAGE_WEIGHTS / WEIGHTS_FILE]:
        codec = MultiRateCodec(checkpoint=checkpoint)
        yield checkpoint, codec, codec.network()


def gap_part(args: argparse.Namespace) -> list[dict]:
    from models.learned import image_to_tensor
    from models.multirate.codec import REFINED_ENCODER
    from models.multirate.refine import rd_cost, refine_latent

    settings = dataclasses.replace(REFINED_ENCODER, steps=args.gap_steps)
    image_sets = held_out_sets(args, validation_count=8)
    rows = []
    for checkpoint, codec, net in compared_codecs(args):
        row: dict = {"checkpoint": str(checkpoint), "steps": settings.steps}
        for set_name, images in image_sets.items():
            for rate in (0.0, 0.6):
                position, lmbda = codec.position(rate), codec.lambda_for_rate(rate)
                gains = net.gains(position)
                plain = refined = 0.0
                for image in images:
                    x = image_to_tensor(image)
                    with torch.no_grad():
                        y0 = net.g_a(x) * gains.y
                    y1 = refine_latent(net, x, position, lmbda, settings)
                    with torch.no_grad():
                        plain += rd_cost(net, y0, gains, x, lmbda, (0, 0, 0, 0))[0].item() / len(images)
                        refined += rd_cost(net, y1, gains, x, lmbda, (0, 0, 0, 0))[0].item() / len(images)
                row[f"{set_name}@{rate}"] = {
                    "plain_cost": plain,
                    "refined_cost": refined,
                    "gap_pct": 100.0 * (refined - plain) / plain,
                }
        rows.append(row)
        print(
            f"{Path(checkpoint).name}: "
            + " | ".join(
                f"{k} cost {v['plain_cost']:.3f} gap {_pct(v['gap_pct'])}" for k, v in row.items() if "@" in k
            ),
            flush=True,
        )
    return rows


def jpeg_psnr_at(images: list[np.ndarray], bpp: float) -> float:
    """Mean PSNR of Pillow JPEG 4:2:0 at ``bpp``: each image's quality sweep interpolated in log-bpp."""
    from models.training.rd_eval import anchor_curve

    curve = anchor_curve("jpeg", {str(i): im for i, im in enumerate(images)}, tuple(range(5, 100, 5)))
    values = []
    for points in curve.per_photo.values():
        b, p = np.asarray(sorted(points), dtype=float).T
        values.append(float(np.interp(np.log(bpp), np.log(b), p)))
    return float(np.mean(values))


def ceiling_part(args: argparse.Namespace) -> list[dict]:
    from models.learned import image_to_tensor, tensor_to_image

    image_sets = held_out_sets(args)
    rows = []
    for checkpoint, codec, net in compared_codecs(args):
        row: dict = {"checkpoint": str(checkpoint)}
        for set_name, images in image_sets.items():
            for rate in (0.0, 1.0):
                gains = net.gains(codec.position(rate))
                float_psnr, rounded_psnr, bpp, coded_psnr = [], [], [], []
                for image in images:
                    x = image_to_tensor(image)
                    with torch.no_grad():
                        y = net.g_a(x) * gains.y
                        # as the decoder writes it: clamped, rounded to 8 bits
                        float_psnr.append(psnr(image, tensor_to_image(net.g_s(y * gains.y_inv))))
                        rounded_psnr.append(psnr(image, tensor_to_image(net.g_s(torch.round(y) * gains.y_inv))))
                    b, p = rd_point(codec, image, rate)
                    bpp.append(b)
                    coded_psnr.append(p)
                mean_bpp = float(np.mean(bpp))
                row[f"{set_name}@{rate}"] = {
                    "float_latent_psnr": float(np.mean(float_psnr)),
                    "rounded_latent_psnr": float(np.mean(rounded_psnr)),
                    "bpp": mean_bpp,
                    "psnr": float(np.mean(coded_psnr)),
                    "jpeg_psnr_at_bpp": jpeg_psnr_at(images, mean_bpp),
                }
        rows.append(row)
        print(
            f"{Path(checkpoint).name}: "
            + " | ".join(
                f"{k} float {v['float_latent_psnr']:.2f} rounded {v['rounded_latent_psnr']:.2f} coded {v['bpp']:.3f} bpp"
                f" {v['psnr']:.2f} dB (JPEG {v['jpeg_psnr_at_bpp']:.2f})"
                for k, v in row.items()
                if "@" in k
            ),
            flush=True,
        )
    return rows


# --- 2. checkerboard vs serial autoregressive decoding ------------------------------------------------


class ModuleTimer:
    """Wall time spent inside one module (forward pre/post hooks), to split decoding into the synthesis
    transform and everything else (hyper-decoder, context model, entropy parameters, rANS decoding)."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.seconds, self._start = 0.0, 0.0
        self._hooks = [module.register_forward_pre_hook(self._pre), module.register_forward_hook(self._post)]

    def _pre(self, *_) -> None:
        self._start = time.perf_counter()

    def _post(self, *_) -> None:
        self.seconds += time.perf_counter() - self._start


def _split_decode(fn, g_s: torch.nn.Module, repeats: int, mp: float) -> dict:
    """Median total decode time and its g_s share, per megapixel."""
    totals, transforms = [], []
    for _ in range(repeats):
        timer = ModuleTimer(g_s)
        start = time.perf_counter()
        fn()
        totals.append(time.perf_counter() - start)
        transforms.append(timer.seconds)
        for h in timer._hooks:
            h.remove()
    total, transform = statistics.median(totals), statistics.median(transforms)
    return {
        "decode_s": total,
        "decode_s_per_mp": total / mp,
        "synthesis_s_per_mp": transform / mp,
        "entropy_s_per_mp": (total - transform) / mp,
    }


@torch.no_grad()
def speed_part(args: argparse.Namespace) -> dict:
    from compressai.models import JointAutoregressiveHierarchicalPriors

    from models.learned import image_to_tensor, pad_to_multiple

    image = benchmark_image(*SIZES[0])
    mp = image.shape[0] * image.shape[1] / 1e6
    codec = MultiRateCodec(checkpoint=args.multirate) if args.multirate else MultiRateCodec()
    net = codec.network()
    data = codec.encode(image, 0.5)
    checker = _split_decode(lambda: codec.decode(data), net.g_s, args.repeats, mp)

    torch.manual_seed(0)
    # The same transforms as ours (width and layout: our decoder runs g_s on a channels-last latent), so the
    # difference is the context model and its decoding loop.
    ar = JointAutoregressiveHierarchicalPriors(N=net.config.transform_width, M=net.config.M).eval()
    ar.g_s.register_forward_pre_hook(lambda _m, inputs: (inputs[0].contiguous(memory_format=torch.channels_last),))
    ar.update(force=True)
    x, _ = pad_to_multiple(image_to_tensor(image), 64)
    coded = ar.compress(x)
    serial = _split_decode(lambda: ar.decompress(coded["strings"], coded["shape"]), ar.g_s, args.repeats, mp)
    result = {
        "image": f"{image.shape[1]}x{image.shape[0]}",
        "checkerboard": checker,
        "serial_ar": serial,
        "speedup": serial["decode_s"] / checker["decode_s"],
        "entropy_speedup": serial["entropy_s_per_mp"] / checker["entropy_s_per_mp"],
        "repeats": args.repeats,
        "latent": f"M={net.config.M} x {x.shape[-2] // 16}x{x.shape[-1] // 16}",
    }
    for label, r in (("checkerboard (ours)", checker), ("serial AR (mbt2018, random init)", serial)):
        print(
            f"decode {result['image']} {label}: {r['decode_s_per_mp']:.3f} s/MP = synthesis transform "
            f"{r['synthesis_s_per_mp']:.3f} + entropy decoding (hyper-decoder, context, rANS) "
            f"{r['entropy_s_per_mp']:.3f} s/MP",
            flush=True,
        )
    print(
        f"checkerboard decodes {result['speedup']:.1f}x faster than serial context "
        f"({result['entropy_speedup']:.1f}x on the entropy-decoding part)",
        flush=True,
    )
    return result


# --- 3. time per megapixel and peak memory ------------------------------------------------------------


def current_rss_mb() -> float:
    """Resident set size now (Linux /proc), in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    """Highest RSS seen (sampled every 2 ms on a thread) while the block runs, and the RSS before it."""

    def __enter__(self) -> PeakRss:
        import threading

        self.before = self.peak = current_rss_mb()
        self._stop = threading.Event()

        def sample() -> None:
            while not self._stop.wait(0.002):
                self.peak = max(self.peak, current_rss_mb())

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, current_rss_mb())


@torch.no_grad()
def measure_size(height: int, width: int, checkpoint: str | None) -> dict:
    """Run in a fresh process: encode + decode one image, report seconds and ru_maxrss."""
    torch.set_num_threads(1)
    codec = MultiRateCodec(checkpoint=Path(checkpoint)) if checkpoint else MultiRateCodec()
    image = benchmark_image(height, width)
    codec.decode(codec.encode(image[:64, :64], 0.5))  # load the model and warm up
    with PeakRss() as encode_mem:
        start = time.perf_counter()
        data = codec.encode(image, 0.5)
        encode_s = time.perf_counter() - start
    with PeakRss() as decode_mem:
        start = time.perf_counter()
        decoded = codec.decode(data)
        decode_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mp = height * width / 1e6
    return {
        "size": f"{width}x{height}",
        "megapixels": mp,
        "encode_s": encode_s,
        "decode_s": decode_s,
        "encode_s_per_mp": encode_s / mp,
        "decode_s_per_mp": decode_s / mp,
        "rss_after_load_mb": encode_mem.before,
        "encode_peak_rss_mb": encode_mem.peak,
        "encode_working_mb": encode_mem.peak - encode_mem.before,
        "decode_peak_rss_mb": decode_mem.peak,
        "decode_working_mb": decode_mem.peak - decode_mem.before,
        "process_max_rss_mb": peak_mb,
        "bpp": 8 * len(data) / (height * width),
        "psnr": psnr(image, decoded),
    }


def scaling_part(args: argparse.Namespace) -> list[dict]:
    rows = []
    for height, width in SIZES:
        cmd = [sys.executable, "-W", "ignore", __file__, "--measure", f"{height}x{width}"]
        if args.multirate:
            cmd += ["--multirate", str(args.multirate)]
        out = subprocess.run(
            cmd, check=True, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{row['size']}: encode {row['encode_s_per_mp']:.2f} s/MP, decode {row['decode_s_per_mp']:.2f} s/MP, "
            f"peak RSS encode {row['encode_peak_rss_mb']:.0f} MB / decode {row['decode_peak_rss_mb']:.0f} MB "
            f"(+{row['encode_working_mb']:.0f} / +{row['decode_working_mb']:.0f} MB above the loaded model's "
            f"{row['rss_after_load_mb']:.0f} MB)",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=("anchors", "demo-job", "refine", "refine-tune", "gap", "ceiling", "bd", "speed", "scaling"),
        default=["anchors", "bd", "speed", "scaling"],
    )
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "multirate.yaml")
    parser.add_argument("--multirate", type=Path, help="multi-rate checkpoint (default: the shipped one)")
    parser.add_argument(
        "--demo-codecs",
        nargs="+",
        default=["licbench-multirate", "webp", "avif"],
        help="demo-job: codecs compared with the anchor at their default rate points",
    )
    parser.add_argument("--demo-anchor", default="jpeg", help="demo-job: the BD table's anchor (default jpeg)")
    parser.add_argument("--baselines-dir", type=Path, default=ROOT / "logs" / "benchmark-multirate")
    parser.add_argument(
        "--steps",
        type=int,
        default=500,
        help="S: steps of the multi-rate run and of each equal-steps single-rate run (default 500)",
    )
    parser.add_argument(
        "--init-from", type=Path, help="common starting checkpoint of every comparison run (default: from scratch)"
    )
    parser.add_argument("--train-only", action="store_true", help="train the comparison runs and stop")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--refine-steps", type=int, help="refinement steps (default: licbench-multirate-refined's)")
    parser.add_argument("--refine-rates", type=int, default=6, help="rate parameters of the refine part (default 6)")
    parser.add_argument(
        "--tune-grid",
        nargs="+",
        default=["50:0.05", "100:0.02", "100:0.05", "200:0.05"],
        help="refine-tune: settings to compare, as steps:lr",
    )
    parser.add_argument(
        "--tune-on",
        choices=("tuning", "validation"),
        default="tuning",
        help="refine-tune: 4 tiles of models.photos.TUNING_PHOTOS (default; unseen in training, not a"
        " demo photo) or the training config's validation crops (crops of the training photos)",
    )
    parser.add_argument("--tune-crops", type=int, default=8, help="refine-tune: validation crops used (default 8)")
    parser.add_argument("--tune-rates", type=int, default=4, help="refine-tune: rate parameters (default 4)")
    parser.add_argument(
        "--gap-checkpoints", type=Path, nargs="+", help="gap, ceiling: checkpoints (default: the shipped one)"
    )
    parser.add_argument("--gap-steps", type=int, default=40, help="gap: refinement steps (default 40)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.measure:
        h, w = (int(v) for v in args.measure.split("x"))
        print(json.dumps(measure_size(h, w, str(args.multirate) if args.multirate else None)))
        return
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "threads": args.threads,
        "torch": torch.__version__,
    }
    if args.train_only:
        comparison_checkpoints(args)
        return
    if "anchors" in args.parts:
        results["anchors"] = anchors_part(args)
    if "demo-job" in args.parts:
        results["demo_job"] = demo_job_part(args)
    if "refine" in args.parts:
        results["refine"] = refine_part(args)
    if "refine-tune" in args.parts:
        results["refine_tune"] = refine_tune_part(args)
    if "gap" in args.parts:
        results["gap"] = gap_part(args)
    if "ceiling" in args.parts:
        results["ceiling"] = ceiling_part(args)
    if "bd" in args.parts:
        results["bd_rate"] = bd_rate_part(args)
    if "speed" in args.parts:
        results["decode_speed"] = speed_part(args)
    if "scaling" in args.parts:
        results["scaling"] = scaling_part(args)
    out = ROOT / "logs" / "benchmarks" / f"multirate-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
