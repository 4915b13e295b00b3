"""SDR25 triplet answers scaled by ``triplet_scale`` vs the JND that JPEG AIC-4's data set publishes.

Reads the two SDR25 response CSVs (BTC and PTC, Jenadeleh et al. 2025, arXiv 2504.06301) and AIC-4's
``JPEG_AIC_reconstructed_jnd_scores.csv`` from ``data/public/aic/`` (run ``scripts/fetch_aic_data.py``
first), reconstructs the JND of every condition jointly from PTC and BTC
(``analysis.subjective.triplet``), and compares each condition that the AIC-4 file also holds
(matched by AIC-4's ``img_distorted`` name): Pearson correlation and mean |difference| in JND, for the
JPEG AI conditions and for all matched conditions, and how often AIC-4's value lies in our 95% interval.

The issue's targets: JPEG AI Pearson >= 0.93 and mean |diff| <= 0.30 JND; all matched >= 0.85 and
<= 0.45 JND. ``--variants`` also runs the choices the docs discuss (boosting classes, linear boosting,
no screening, PTC answers only) without intervals.

    python benchmarks/aic3_vs_aic4.py
    python benchmarks/aic3_vs_aic4.py --bootstrap 0 --variants
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from analysis.subjective.aic3_csv import aic3_codec, aic3_reference, read_aic3_answers  # noqa: E402
from analysis.subjective.triplet import TripletScale, triplet_scale  # noqa: E402

DATA = ROOT / "data/public/aic"
RESPONSES = (
    "JPEG_AIC_SDR_BTC_JPEG_AI_responses_2025.02.28_v1.csv",
    "JPEG_AIC_SDR_PTC_JPEG_AI_responses_2025.02.28_v1.csv",
)
AIC4 = "JPEG_AIC_reconstructed_jnd_scores.csv"
TARGETS = {"JPEG AI": (0.93, 0.30), "all matched": (0.85, 0.45)}


def read_aic4(path: Path) -> dict[str, tuple[float, float, float]]:
    """AIC-4's ``img_distorted`` -> (JND, CI_min, CI_max)."""
    with path.open(newline="") as handle:
        return {
            row["img_distorted"]: (float(row["distortion"]), float(row["CI_min"]), float(row["CI_max"]))
            for row in csv.DictReader(handle)
        }


def boost_classes(answers, how: str) -> dict[tuple[str, str], str] | None:
    """(group, label) -> boosting class: per source (the default), per source and codec (AIC-3's), per
    source for the swept codec (JPEG AI) and per codec pooled over sources for the others, or global."""
    if how == "source":
        return None
    keys = {(a.group, lab) for a in answers for lab in (a.pivot, a.left, a.right)}
    if how == "global":
        return {key: "all" for key in keys}
    if how == "source-codec":
        return {key: f"{key[0]}/{aic3_codec(key[1])}" for key in keys}
    swept = ("JPEG-AI", "0ref")
    return {key: key[0] if aic3_codec(key[1]) in swept else aic3_codec(key[1]) for key in keys}


def compare(scale: TripletScale, aic4: dict[str, tuple[float, float, float]]) -> dict[str, dict[str, float]]:
    """Pearson, mean |diff|, interval coverage of AIC-4's value, per subset of matched conditions."""
    ours = {c.label: c for c in scale.conditions if not c.reference}
    matched = [label for label in ours if label in aic4]
    out = {}
    for name, labels in (("JPEG AI", [m for m in matched if aic3_codec(m) == "JPEG-AI"]), ("all matched", matched)):
        est = np.array([ours[m].jnd for m in labels])
        pub = np.array([aic4[m][0] for m in labels])
        inside = np.mean([ours[m].ci_low <= aic4[m][0] <= ours[m].ci_high for m in labels])
        out[name] = {
            "n": len(labels),
            "pearson": float(np.corrcoef(est, pub)[0, 1]),
            "mad": float(np.mean(np.abs(est - pub))),
            "slope": float(np.polyfit(pub, est, 1)[0]),
            "coverage": float(inside),
        }
    return out


def report(
    title: str, scale: TripletScale, figures: dict[str, dict[str, float]], seconds: float, intervals: bool = True
) -> None:
    def coverage(f: dict[str, float]) -> str:
        return f"{f['coverage']:.0%}" if intervals else "n/a"

    print(f"\n== {title} ({seconds:.1f} s)")
    cuts = {k: round(v, 3) for k, v in scale.trap_thresholds.items()}
    gain = "none" if scale.boost_gain is None else f"{scale.boost_gain:.2f}"
    print(
        f"   observers used {scale.observers}, screened out {len(scale.observers_screened_out)} "
        f"(batches {len(scale.batches_screened_out)}, Otsu cuts {cuts}), "
        f"answers used {scale.answers_used}, boost gain {gain}"
    )
    for name, f in figures.items():
        lo, hi = TARGETS[name]
        verdict = "meets" if f["pearson"] >= lo and f["mad"] <= hi else "MISSES"
        print(
            f"   {name:12s} n={f['n']:3d}  Pearson {f['pearson']:.3f}  mean|diff| {f['mad']:.3f} JND  "
            f"slope {f['slope']:.2f}  AIC-4 inside our 95% CI {coverage(f)}  "
            f"(target >= {lo}, <= {hi}: {verdict})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", action="store_true", help="also run the alternative choices")
    parser.add_argument("--table", action="store_true", help="print every JPEG AI condition")
    args = parser.parse_args(argv)
    missing = [name for name in (*RESPONSES, AIC4) if not (args.data / name).is_file()]
    if missing:
        print(f"missing in {args.data}: {', '.join(missing)}; run scripts/fetch_aic_data.py", file=sys.stderr)
        return 2
    answers = read_aic3_answers([args.data / name for name in RESPONSES])
    references = {a.group: aic3_reference(a.group) for a in answers}
    aic4 = read_aic4(args.data / AIC4)
    print(
        f"{len(answers)} answers ({sum(a.boosted for a in answers)} BTC), "
        f"{len({a.observer for a in answers})} workers, {len(references)} sources"
    )

    t = time.perf_counter()
    scale = triplet_scale(answers, references, bootstrap=args.bootstrap, seed=args.seed)
    report(
        f"AIC-3 joint PTC+BTC, quadratic boosting per source, Otsu batch screening, "
        f"{args.bootstrap} bootstrap resamples",
        scale,
        compare(scale, aic4),
        time.perf_counter() - t,
        intervals=args.bootstrap > 0,
    )
    if args.table:
        print("\n   label                        ours [95% CI]              AIC-4 [95% CI]")
        for c in scale.conditions:
            if aic3_codec(c.label) == "JPEG-AI" and c.label in aic4:
                v, lo, hi = aic4[c.label]
                print(
                    f"   {c.label:28s} {c.jnd:5.2f} [{c.ci_low:5.2f}, {c.ci_high:5.2f}]   "
                    f"{v:5.2f} [{lo:5.2f}, {hi:5.2f}]"
                )
    if args.variants:
        for title, kwargs, how, only_plain in (
            ("quadratic boosting per source and codec (AIC-3's classes)", {}, "source-codec", False),
            (
                "quadratic boosting per source for JPEG AI, per codec for the cross-codec conditions",
                {},
                "codec-pooled",
                False,
            ),
            ("one quadratic boosting transform for all", {}, "global", False),
            ("linear boosting (one gain) per source", {"boost_model": "linear"}, "source", False),
            ("no screening", {"screening": "none"}, "source", False),
            ("PTC answers only (no boosting)", {}, "source", True),
        ):
            subset = [a for a in answers if not a.boosted] if only_plain else answers
            t = time.perf_counter()
            classes = boost_classes(subset, how)
            variant = triplet_scale(subset, references, bootstrap=0, boost_classes=classes, **kwargs)
            report(title, variant, compare(variant, aic4), time.perf_counter() - t, intervals=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
