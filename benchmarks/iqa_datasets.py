"""licbench's SROCC per metric on the public IQA data sets a lab has, beside the published figures.

    .venv/bin/python benchmarks/iqa_datasets.py DIR... [--layout NAME] [--metrics psnr,ssim,...]
                                                [--limit-references N] [--bootstrap 1000]

Each DIR is an extracted data set (TID2013, KADID-10k, CSIQ, LIVE Release 2, CLIC 2021 perceptual or
a generic CSV), found by its layout's files at DIR or in its one top-level folder; ``--layout``
forces one layout for all DIRs. Every distorted image is scored against its reference with the
``metrics`` library (no server, no queue), then ``analysis.correlation`` gives the SROCC (oriented:
positive = agrees with people) with a 95% bootstrap interval over references. Published figures
(REFERENCES.md): pyiqa tests/FR_benchmark_results.csv (CSIQ, LIVE, TID2013) and the piq README
(TID2013, KADID-10k). CLIC triplets are scored as 2AFC agreement. Nothing is downloaded: this
machine has none of these data sets, and the script says so and exits with status 2 when a folder
is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from analysis.correlation import correlate, two_afc_agreement  # noqa: E402
from analysis.iqa_datasets import (  # noqa: E402
    DatasetError,
    dataset_observations,
    dataset_two_afc_pairs,
    find_layout_root,
    get_layout,
    layout_names,
)
from metrics.registry import create_metric  # noqa: E402
from metrics.scoring import score  # noqa: E402

# Published SROCC (REFERENCES.md). Keys are licbench metric names.
PYIQA = {  # pyiqa tests/FR_benchmark_results.csv; VIF there is the wavelet-domain VIF
    "csiq": {
        "psnr": 0.809,
        "ssim": 0.837,
        "ms-ssim": 0.913,
        "fsim": 0.931,
        "vif": 0.919,
        "lpips": 0.923,
        "dists": 0.930,
    },
    "live": {
        "psnr": 0.873,
        "ssim": 0.910,
        "ms-ssim": 0.951,
        "fsim": 0.965,
        "vif": 0.964,
        "lpips": 0.924,
        "dists": 0.948,
    },
    "tid2013": {
        "psnr": 0.687,
        "ssim": 0.627,
        "ms-ssim": 0.786,
        "fsim": 0.851,
        "vif": 0.677,
        "lpips": 0.745,
        "dists": 0.708,
    },
}
PIQ = {  # piq README (FSIMc listed under fsim, LPIPS-VGG under lpips-vgg, VIFp under vifp)
    "tid2013": {
        "psnr": 0.687,
        "ssim": 0.554,
        "ms-ssim": 0.798,
        "vifp": 0.610,
        "lpips-vgg": 0.670,
        "dists": 0.708,
        "fsim": 0.851,
    },
    "kadid10k": {
        "psnr": 0.676,
        "ssim": 0.633,
        "ms-ssim": 0.802,
        "vifp": 0.650,
        "lpips-vgg": 0.720,
        "dists": 0.814,
        "fsim": 0.854,
    },
}
DEFAULT_METRICS = "psnr,ssim,ms-ssim,fsim,vif,vifp,gmsd,haarpsi,lpips,lpips-vgg,dists"


def _load(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _detect(folder: Path, forced: str | None, higher_is_better: bool | None):
    names = [forced] if forced else layout_names()
    for name in names:
        if name == "generic-csv" and not forced:
            continue  # needs the score direction; ask for it explicitly with --layout
        layout = get_layout(name, higher_is_better=higher_is_better) if name == "generic-csv" else get_layout(name)
        try:
            return layout, find_layout_root(folder, layout)
        except DatasetError:
            continue
    raise DatasetError(f"{folder}: no known layout found ({', '.join(names)})")


def _score_by_reference(root: Path, pairs: list[tuple[str, str]], metrics, reasons: dict[str, str]) -> dict[str, dict]:
    """Metric values of each distorted image against its reference, one batched call per reference;
    ``reasons`` collects why a metric gave no value (first reason per metric)."""
    by_reference: dict[str, list[str]] = {}
    for reference, distorted in pairs:
        by_reference.setdefault(reference, []).append(distorted)
    out = {}
    for done, (reference, distorted) in enumerate(by_reference.items(), 1):
        ref = _load(root / reference)
        values = score(ref, [_load(root / d) for d in distorted], metrics)
        for d, row in zip(distorted, values):
            out[d] = {name: s.value for name, s in row.items()}
            for name, s in row.items():
                if s.value is None and s.reason:
                    reasons.setdefault(name, s.reason)
        print(f"  scored reference {done}/{len(by_reference)}", end="\r", file=sys.stderr)
    print(file=sys.stderr)
    return out


def run(folder: Path, args, metrics) -> None:
    direction = None if args.higher_is_better is None else args.higher_is_better == "yes"
    layout, root = _detect(folder, args.layout, direction)
    index = layout.read(root)
    higher = {m.name: m.higher_is_better for m in metrics}
    references = index.references[: args.limit_references] if args.limit_references else index.references
    keep = set(references)
    started = time.perf_counter()
    print(
        f"\n{folder} ({layout.name}): {index.n_references} references, {index.n_distorted} distorted, "
        f"unit {index.unit}{' (lower is better)' if not index.higher_is_better else ''}"
    )
    reasons: dict[str, str] = {}
    if index.triplets:
        triplets = [t for t in index.triplets if t.original in keep]
        values = _score_by_reference(root, [(t.original, p) for t in triplets for p in (t.a, t.b)], metrics, reasons)
        print(f"{'metric':<12} {'2AFC agreement':>16} {'95% interval':>18} {'n':>6}")
        for name in higher:
            result = two_afc_agreement(
                dataset_two_afc_pairs(index, values, name), higher_is_better=higher[name], n_bootstrap=args.bootstrap
            )
            share = "n/a" if result.share is None else f"{result.share:.3f}"
            ci = "" if result.ci is None else f"[{result.ci[0]:.3f}, {result.ci[1]:.3f}]"
            print(
                f"{name:<12} {share:>16} {ci:>18} {result.n:>6}" + (f"   ({reasons[name]})" if name in reasons else "")
            )
    else:
        distorted = [d for d in index.distorted if d.reference in keep]
        values = _score_by_reference(root, [(d.reference, d.path) for d in distorted], metrics, reasons)
        report = correlate(dataset_observations(index, values), higher, n_bootstrap=args.bootstrap)
        published_pyiqa, published_piq = PYIQA.get(layout.name, {}), PIQ.get(layout.name, {})
        print(f"{'metric':<12} {'licbench SROCC':>15} {'95% interval':>18} {'n':>6} {'pyiqa':>7} {'piq':>7}")
        for row in report.metrics:
            value = "n/a" if row.srocc is None else f"{row.srocc:.3f}"
            ci = "" if row.srocc_ci is None else f"[{row.srocc_ci[0]:.3f}, {row.srocc_ci[1]:.3f}]"
            a = published_pyiqa.get(row.metric)
            b = published_piq.get(row.metric)
            why = reasons.get(row.metric) or row.reason
            print(
                f"{row.metric:<12} {value:>15} {ci:>18} {row.n:>6} {'' if a is None else f'{a:.3f}':>7} "
                f"{'' if b is None else f'{b:.3f}':>7}" + (f"   ({why})" if row.srocc is None and why else "")
            )
    if args.limit_references:
        print(f"(first {len(references)} references only: not comparable with the published full-set figures)")
    print(f"{time.perf_counter() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="extracted data set folders")
    parser.add_argument("--layout", choices=layout_names(), help="force one layout for every folder")
    parser.add_argument("--higher-is-better", choices=["yes", "no"], help="score direction for generic-csv")
    parser.add_argument("--metrics", default=DEFAULT_METRICS)
    parser.add_argument("--limit-references", type=int, default=0, help="score only the first N references")
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args(argv)
    absent = [f for f in args.folders if not f.is_dir()]
    if absent:
        print(
            "cannot run: these data set folders are absent: " + ", ".join(str(f) for f in absent) + "\n"
            "licbench downloads nothing; point this script at TID2013, KADID-10k, CSIQ, LIVE or CLIC 2021 "
            "folders extracted on this machine.",
            file=sys.stderr,
        )
        return 2
    metrics = []
    for name in [m.strip() for m in args.metrics.split(",") if m.strip()]:
        try:
            metric = create_metric(name)
        except KeyError:
            print(f"unknown metric {name!r}", file=sys.stderr)
            return 2
        available = metric.availability()
        if not available.available:
            print(f"skipping {name}: {available.reason}", file=sys.stderr)
            continue
        metrics.append(metric)
    for folder in args.folders:
        try:
            run(folder, args, metrics)
        except DatasetError as exc:
            print(f"{folder}: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
