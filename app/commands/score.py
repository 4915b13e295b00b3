"""``licbench score``: score images outside the service with the registered quality metrics.

``licbench score REF DIST [--metric NAME ...] [--json]`` scores one pair;
``licbench score --refs DIR --dists DIR --csv OUT`` scores every distorted image whose file name
matches a reference (same name, or same stem with another extension), with a progress bar.
All available metrics by default; unavailable or inapplicable ones are reported with their reason.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

from app.commands import CommandError

IMAGE_SUFFIXES = {".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".gif"}


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image

    from models.image_errors import PIL_DECODE_ERRORS

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except FileNotFoundError:
        raise CommandError(f"cannot read {path}: no such file") from None
    except PIL_DECODE_ERRORS as exc:
        raise CommandError(f"cannot read {path}: not a readable image ({exc.__class__.__name__})") from None


def _metrics(names: list[str] | None) -> list:
    """The selected metrics (default: all), built on the configured weights folder and device."""
    from app.settings import get_settings
    from metrics.registry import MetricContext, build_metrics, metric_names

    known = metric_names()
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise CommandError(f"unknown metric {unknown[0]!r}; known metrics: {', '.join(known)}")
    settings = get_settings()
    context = MetricContext(
        weights_dir=Path(settings.weights_dir), device=settings.device, display=settings.metric_display
    )
    return list(build_metrics(context, list(dict.fromkeys(names)) if names else None).values())


def _score_pair(reference: np.ndarray, distorted: np.ndarray, metrics: list, ref_path: Path, dist_path: Path):
    from metrics.scoring import score

    if reference.shape != distorted.shape:
        raise CommandError(
            f"{dist_path} is {distorted.shape[1]}x{distorted.shape[0]} but its reference "
            f"{ref_path} is {reference.shape[1]}x{reference.shape[0]}"
        )
    return score(reference, [distorted], metrics)[0]


def _one_pair(args, metrics: list) -> int:
    ref_path, dist_path = Path(args.reference), Path(args.distorted)
    row = _score_pair(_read_image(ref_path), _read_image(dist_path), metrics, ref_path, dist_path)
    if args.json:
        out = {
            "reference": str(ref_path),
            "distorted": str(dist_path),
            "scores": {name: s.value for name, s in row.items()},
            "unavailable": {name: s.reason for name, s in row.items() if s.value is None},
            "notes": {name: s.note for name, s in row.items() if s.note},  # e.g. cvvdp/flip viewing condition
        }
        print(json.dumps(out, indent=2))
        return 0
    width = max(len(name) for name in row)
    for name, s in row.items():
        print(f"{name:<{width}}  {s.value:.6g}" if s.value is not None else f"{name:<{width}}  n/a  ({s.reason})")
    return 0


def _pairs(refs: Path, dists: Path) -> tuple[list[tuple[Path, Path]], list[Path]]:
    """(reference, distorted) pairs matched by file name, else by stem; and distorted files without one."""
    for folder in (refs, dists):
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder")
    references = sorted(p for p in refs.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    by_name = {p.name: p for p in references}
    by_stem = {p.stem: p for p in references}
    pairs, unmatched = [], []
    for dist in sorted(p for p in dists.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
        ref = by_name.get(dist.name) or by_stem.get(dist.stem)
        (pairs.append((ref, dist)) if ref is not None else unmatched.append(dist))
    return pairs, unmatched


def _bulk(args, metrics: list) -> int:
    from tqdm import tqdm

    names = [m.name for m in metrics]
    pairs, unmatched = _pairs(Path(args.refs), Path(args.dists))
    if not pairs:
        raise CommandError(f"no file in {args.dists} matches a reference in {args.refs} by name")
    out_path = Path(args.csv)
    reasons: dict[str, str] = {}
    try:
        handle = out_path.open("w", newline="")
    except OSError as exc:
        raise CommandError(f"cannot write {out_path}: {exc.strerror or exc}") from None
    with handle:
        writer = csv.writer(handle)
        writer.writerow(["reference", "distorted", *names])
        cache: tuple[Path, np.ndarray] | None = None
        for ref_path, dist_path in tqdm(pairs, desc="scoring", unit="pair", file=sys.stderr):
            if cache is None or cache[0] != ref_path:
                cache = (ref_path, _read_image(ref_path))
            row = _score_pair(cache[1], _read_image(dist_path), metrics, ref_path, dist_path)
            writer.writerow(
                [ref_path.name, dist_path.name, *("" if row[n].value is None else f"{row[n].value:.6g}" for n in names)]
            )
            for name, s in row.items():
                if s.value is None:
                    reasons.setdefault(name, s.reason or "")
    print(f"wrote {len(pairs)} rows to {out_path}", file=sys.stderr)
    for name, reason in reasons.items():
        print(f"{name}: empty where not computed ({reason})", file=sys.stderr)
    if unmatched:
        print(
            f"{len(unmatched)} file(s) in {args.dists} have no reference: "
            f"{', '.join(p.name for p in unmatched[:5])}{' ...' if len(unmatched) > 5 else ''}",
            file=sys.stderr,
        )
    return 0


def _handle(args) -> int:
    bulk = args.refs is not None or args.dists is not None or args.csv is not None
    if bulk:
        if args.reference or args.distorted:
            raise CommandError("give either REF DIST or --refs DIR --dists DIR --csv OUT, not both")
        if not (args.refs and args.dists and args.csv):
            raise CommandError("bulk scoring needs all of --refs DIR, --dists DIR and --csv OUT")
        return _bulk(args, _metrics(args.metric))
    if not (args.reference and args.distorted):
        raise CommandError("give REF and DIST image files (or --refs DIR --dists DIR --csv OUT)")
    return _one_pair(args, _metrics(args.metric))


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "score",
        help="Score images with the quality metrics (one pair, or two folders to a CSV).",
        description="Score a distorted image against its reference with the registered quality metrics "
        "(all by default), or every matching pair of two folders into a CSV file.",
    )
    parser.add_argument("reference", nargs="?", help="reference image file")
    parser.add_argument("distorted", nargs="?", help="distorted (reconstructed) image file")
    parser.add_argument(
        "--metric",
        action="append",
        metavar="NAME",
        help="metric to compute (repeatable; default: all registered metrics)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON: scores by metric name, and the reason for each metric without a value",
    )
    parser.add_argument("--refs", metavar="DIR", help="folder of reference images (bulk mode)")
    parser.add_argument("--dists", metavar="DIR", help="folder of distorted images, matched by file name")
    parser.add_argument("--csv", metavar="OUT", help="CSV file to write in bulk mode")
    parser.set_defaults(handler=_handle)
