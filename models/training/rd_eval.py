"""Rate-distortion evaluation of a multi-rate checkpoint on held-out photos against classical anchors.

Every point is measured on real bytes: the codec writes a ``.lic`` file, bpp = 8 * bytes / pixels, and
PSNR (RGB, 8-bit) is computed on the image decoded *from those bytes*. BD-rate follows Bjontegaard (VCEG-M33)
with PCHIP interpolation as the ``bjontegaard`` package implements it; the curves compared are the means
over the photos of bpp and PSNR at each rate point (as CompressAI's ``eval_model`` averages).

    python -m models.training.rd_eval models/weights/multirate.pth      # demo photos vs JPEG/WebP/AVIF
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.multirate.codec import MultiRateCodec
from models.photos import demo_photos

# Pillow quality sweeps dense enough to cover ~0.1-1.2 bpp on the demo photos.
ANCHOR_QUALITIES = {
    "jpeg": (5, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 70, 80, 85, 90),
    "webp": (1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 85, 90),
    "avif": (10, 20, 30, 40, 50, 60, 70, 80, 90),
}


def psnr(reference: np.ndarray, decoded: np.ndarray) -> float:
    """PSNR over the three 8-bit RGB channels (peak 255)."""
    mse = np.mean((reference.astype(np.float64) - decoded.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse)) if mse > 0 else 100.0


@dataclass
class Curve:
    """Mean (bpp, PSNR) per rate point over the photos, plus the per-photo points."""

    points: list[tuple[float, float]]
    per_photo: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def _mean_curve(per_photo: dict[str, list[tuple[float, float]]]) -> Curve:
    arr = np.mean([np.asarray(v, dtype=float) for v in per_photo.values()], axis=0)
    return Curve([(float(b), float(p)) for b, p in arr], per_photo)


def multirate_curve(
    codec: MultiRateCodec, photos: dict[str, np.ndarray], rates: list[float], check_deterministic: bool = True
) -> Curve:
    """Encode each photo at each rate parameter, decode from the bytes (twice: must be identical)."""
    per_photo = {}
    for name, image in photos.items():
        points = []
        for r in rates:
            data = codec.encode(image, r)
            decoded = codec.decode(data)
            if check_deterministic and not np.array_equal(decoded, codec.decode(data)):
                raise RuntimeError(f"decoding {name} at R={r} twice gave different images")
            points.append((8 * len(data) / (image.shape[0] * image.shape[1]), psnr(image, decoded)))
        per_photo[name] = points
    return _mean_curve(per_photo)


def anchor_curve(codec_name: str, photos: dict[str, np.ndarray], qualities: tuple[int, ...] | None = None) -> Curve:
    """A classical anchor (``jpeg`` = Pillow 4:2:0, ``webp``, ``avif``) over a quality sweep."""
    from models.codecs.avif import AvifCodec
    from models.codecs.jpeg import JpegCodec
    from models.codecs.webp import WebpCodec

    codec = {"jpeg": JpegCodec, "webp": WebpCodec, "avif": AvifCodec}[codec_name]()
    available = codec.availability()
    if not available.available:
        raise RuntimeError(f"{codec_name} is not available here: {available.reason}")
    per_photo = {}
    for name, image in photos.items():
        points = []
        for q in qualities or ANCHOR_QUALITIES[codec_name]:
            data = codec.encode(image, q)
            points.append((8 * len(data) / (image.shape[0] * image.shape[1]), psnr(image, codec.decode(data))))
        per_photo[name] = points
    return _mean_curve(per_photo)


def bd_rate(anchor: list[tuple[float, float]], test: list[tuple[float, float]]) -> float:
    """BD-rate (%) of ``test`` against ``anchor`` (PCHIP, ``bjontegaard``), over their common PSNR range;
    NaN where the curves do not overlap in PSNR. Negative = ``test`` needs fewer bits."""
    import bjontegaard as bd

    a = np.asarray(sorted(anchor), dtype=float)
    t = np.asarray(sorted(test), dtype=float)
    if min(a[:, 1].max(), t[:, 1].max()) <= max(a[:, 1].min(), t[:, 1].min()):
        return float("nan")
    return float(
        bd.bd_rate(a[:, 0], a[:, 1], t[:, 0], t[:, 1], method="pchip", require_matching_points=False, min_overlap=0)
    )


def restrict(curve: list[tuple[float, float]], low: float, high: float) -> list[tuple[float, float]]:
    """Points of a curve inside ``[low, high]`` bpp plus the nearest one on each side (so PCHIP spans it)."""
    pts = sorted(curve)
    inside = [i for i, (b, _) in enumerate(pts) if low <= b <= high]
    if not inside:
        return pts
    return pts[max(0, inside[0] - 1) : inside[-1] + 2]


def is_monotone(points: list[tuple[float, float]]) -> bool:
    """Strictly increasing in both bpp and PSNR, in rate-parameter order."""
    return all(b2 > b1 and p2 > p1 for (b1, p1), (b2, p2) in zip(points, points[1:]))


def evaluate(
    checkpoint: Path,
    anchors: tuple[str, ...] = ("jpeg", "webp", "avif"),
    n_rates: int = 16,
    low: float = 0.15,
    high: float = 1.0,
) -> dict:
    """Demo-photo RD curve of ``checkpoint`` and its BD-rates against each anchor (over ``low``-``high`` bpp)."""
    photos = demo_photos()
    codec = MultiRateCodec(checkpoint=Path(checkpoint))
    rates = [i / (n_rates - 1) for i in range(n_rates)]
    multi = multirate_curve(codec, photos, rates)
    out: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "rates": rates,
        "multirate": multi.points,
        "monotone": is_monotone(multi.points),
        "distinct_points": len({round(b, 6) for b, _ in multi.points}),
        "anchors": {},
    }
    for name in anchors:
        try:
            curve = anchor_curve(name, photos)
        except RuntimeError as exc:
            out["anchors"][name] = {"error": str(exc)}
            continue
        out["anchors"][name] = {
            "points": curve.points,
            "bd_rate_pct": bd_rate(restrict(curve.points, low, high), multi.points),
        }
    return out


def validation_images(config_path: Path) -> dict[str, np.ndarray]:
    """The fixed validation crops of a training config (crops of the TRAINING photos) as uint8 images."""
    from models.training.multirate import load_config, training_images, validation_batch

    config = load_config(Path(config_path))
    batch = validation_batch(config, training_images(config))
    arrays = batch.mul(255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return {f"val{i}": np.ascontiguousarray(a) for i, a in enumerate(arrays)}


def compare_on_validation(config_path: Path, new: Path, old: Path, n_rates: int = 8) -> dict:
    """BD-rate of checkpoint ``new`` against ``old`` on the validation crops (real bytes): how checkpoints
    are chosen, since the demo photos are the test set."""
    crops = validation_images(config_path)
    rates = [i / (n_rates - 1) for i in range(n_rates)]
    curves = {
        label: multirate_curve(MultiRateCodec(checkpoint=Path(path)), crops, rates, False).points
        for label, path in (("new", new), ("old", old))
    }
    return {**curves, "bd_rate_new_vs_old_pct": bd_rate(curves["old"], curves["new"])}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--against", type=Path, help="compare with this checkpoint on --config's validation crops")
    parser.add_argument("--config", type=Path, default=Path("configs/multirate.yaml"))
    parser.add_argument("--anchors", nargs="+", default=["jpeg", "webp", "avif"])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.against:
        cmp = compare_on_validation(args.config, args.checkpoint, args.against)
        for label in ("new", "old"):
            print(f"{label}: " + ", ".join(f"{b:.3f}/{p:.2f}" for b, p in cmp[label]))
        print(
            f"validation crops: BD-rate of {args.checkpoint} vs {args.against}: {cmp['bd_rate_new_vs_old_pct']:+.2f}%"
        )
        return
    res = evaluate(args.checkpoint, tuple(args.anchors))
    print("multirate (mean over demo photos): " + ", ".join(f"{b:.3f}/{p:.2f}" for b, p in res["multirate"]))
    print(f"monotone: {res['monotone']}, distinct rate points: {res['distinct_points']}")
    for name, a in res["anchors"].items():
        if "error" in a:
            print(f"{name}: {a['error']}")
            continue
        print(f"{name}: " + ", ".join(f"{b:.3f}/{p:.2f}" for b, p in a["points"]))
        print(f"  BD-rate of multirate vs {name}: {a['bd_rate_pct']:+.2f}%")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
