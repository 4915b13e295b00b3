"""Print the tables of ``docs/findings-aic4.md``: which metrics agree with people on JPEG AI and on classical codecs.

Usage (after ``python scripts/fetch_aic4_data.py``)::

    python scripts/findings_aic4.py data/public/aic4 > findings.md

Reads the two AIC-4 CSVs through the ``aic4`` layout (the same parser the import uses) and runs the same
statistics as ``GET /api/v1/iqa-datasets/{id}/correlation`` and the report card (``analysis.correlation``):
SROCC and PLCC (after the VQEG 4-parameter logistic) with 95% bootstrap intervals over source images,
Williams' test between metrics, the mean residual per codec family and the worst items by residual.
Human quality is -JND; every metric is higher = better. Seeded: the same input prints the same tables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.correlation import Observation, correlate, family_bias, worst_disagreements  # noqa: E402
from analysis.correlation.bootstrap import ImageBootstrap, percentile_interval, two_sided_p  # noqa: E402
from analysis.iqa_datasets import DatasetIndex, get_layout, read_dataset  # noqa: E402
from analysis.iqa_datasets.aic4 import codec_family  # noqa: E402

N_BOOTSTRAP = 1000
SEED = 0
CODECS = ("AVIF", "JPEG-1", "JPEG-2000", "JPEG-XL", "VVC", "JPEG-AI")
WORST = 5
ALPHA = 0.05
# /work/shared/REFERENCES.md: SROCC from the same CSVs, all 300 / JPEG AI only (the cross-check column).
PUBLISHED = {
    "PSNR-Y": (0.816, 0.815),
    "SSIM": (0.905, 0.904),
    "MS-SSIM": (0.941, 0.918),
    "IW-SSIM": (0.951, 0.889),
    "VMAF-neg": (0.921, 0.963),
    "SSIMULACRA2": (0.913, 0.841),
    "HDR-VDP-3 Q": (0.933, 0.953),
    "CVVDP": (0.961, 0.843),
}


def observations(index: DatasetIndex) -> list[Observation]:
    """One observation per item: human = -JND with its interval, codec as distortion, learned/classical family."""
    out = []
    for d in index.distorted:
        ci = (-d.score_ci[1], -d.score_ci[0]) if d.score_ci else None
        out.append(
            Observation(
                dict(d.metric_values or {}),
                -d.score,
                d.reference,
                d.path,
                codec=d.distortion,
                family=codec_family(d.distortion),
                distortion=d.distortion,
                human_ci=ci,
                extra={"level": d.level, "jnd": d.score},
            )
        )
    return out


def _f(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ci(ci) -> str:
    return "" if not ci else f" [{ci[0]:.2f}, {ci[1]:.2f}]"


def _p(p) -> str:
    if p is None:
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def agreement_table(report_family, report_all, metrics: list[str]) -> list[str]:
    rows = {r.metric: r for r in report_all.metrics}
    groups = {key: {r.metric: r for r in rows_} for key, rows_ in report_family.groups.items()}
    lines = [
        "| metric | SROCC all (300) | SROCC classical (250) | SROCC JPEG AI (50) | PLCC all | PLCC classical "
        "| PLCC JPEG AI | REFERENCES.md all / JPEG AI |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in sorted(metrics, key=lambda m: -(groups["learned"][m].srocc or 0)):
        a, c, j = rows[name], groups["classical"][name], groups["learned"][name]
        published = PUBLISHED.get(name)
        lines.append(
            f"| {name} | {_f(a.srocc)}{_ci(a.srocc_ci)} | {_f(c.srocc)}{_ci(c.srocc_ci)} | "
            f"{_f(j.srocc)}{_ci(j.srocc_ci)} | {_f(a.plcc)}{_ci(a.plcc_ci)} | {_f(c.plcc)}{_ci(c.plcc_ci)} | "
            f"{_f(j.plcc)}{_ci(j.plcc_ci)} | "
            f"{'–' if published is None else f'{published[0]:.3f} / {published[1]:.3f}'} |"
        )
    return lines


def codec_table(report_codec, metrics: list[str]) -> list[str]:
    groups = {key: {r.metric: r for r in rows} for key, rows in report_codec.groups.items()}
    lines = ["| metric | " + " | ".join(CODECS) + " |", "|---|" + "---|" * len(CODECS)]
    for name in metrics:
        cells = []
        for codec in CODECS:
            row = groups[codec][name]
            rank = 1 + sorted((r.srocc or -2 for r in groups[codec].values()), reverse=True).index(row.srocc or -2)
            cells.append(f"{_f(row.srocc)} ({rank})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def significance_table(rows, comparisons, label: str) -> list[str]:
    """Each metric against the best one on ``label``'s items: Williams p and the paired bootstrap p."""
    ranked = [r for r in rows if r.srocc is not None]
    best = ranked[0].metric
    by_pair = {(c.a, c.b): c for c in comparisons}
    lines = [
        f"| {label}: metric | SROCC | vs {best}: ΔSROCC | Williams p | bootstrap p (sources) | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in ranked:
        if r.metric == best:
            lines.append(f"| {r.metric} | {_f(r.srocc)} | – | – | – | best |")
            continue
        c = by_pair.get((best, r.metric))
        verdict = (
            "worse (both tests)"
            if c.p_williams < ALPHA and (c.p_bootstrap or 1) < ALPHA
            else ("worse (Williams only)" if c.p_williams < ALPHA else "not distinguishable")
        )
        lines.append(
            f"| {r.metric} | {_f(r.srocc)} | {c.delta_srocc:+.3f} | {_p(c.p_williams)} | "
            f"{_p(c.p_bootstrap)} | {verdict} |"
        )
    return lines


def drop_table(obs: list[Observation], metrics: list[str]) -> list[str]:
    """SROCC on JPEG AI minus SROCC on the classical codecs, paired over the same source resamples."""
    y = np.array([o.human for o in obs])
    learned = np.array([o.family == "learned" for o in obs])
    resampling = ImageBootstrap([o.image for o in obs], N_BOOTSTRAP, SEED)
    lines = ["| metric | SROCC JPEG AI − classical [95% CI] | bootstrap p |", "|---|---|---|"]
    from analysis.correlation import srocc

    for name in metrics:
        x = np.array([o.metric_values[name] for o in obs])
        delta = srocc(x[learned], y[learned]) - srocc(x[~learned], y[~learned])
        boot = resampling.spearman(x, y, learned) - resampling.spearman(x, y, ~learned)
        lines.append(f"| {name} | {delta:+.3f}{_ci(percentile_interval(boot))} | {_p(two_sided_p(boot))} |")
    return lines


def bias_table(obs: list[Observation], metrics: list[str]) -> list[str]:
    lines = ["| metric | mean residual on JPEG AI [95% CI] | on classical [95% CI] |", "|---|---|---|"]
    for name in metrics:
        bias = {b.family: b for b in family_bias(obs, name, True, n_bootstrap=N_BOOTSTRAP, seed=SEED)}
        if not bias:
            lines.append(f"| {name} | fit failed | fit failed |")
            continue
        lines.append(
            f"| {name} | {bias['learned'].mean_residual:+.3f}{_ci(bias['learned'].ci)} | "
            f"{bias['classical'].mean_residual:+.3f}{_ci(bias['classical'].ci)} |"
        )
    return lines


def worst_table(obs: list[Observation], metrics: list[str]) -> list[str]:
    lines = [
        "| metric | item | codec | level | JND [95% CI] | predicted JND | predicted − JND |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in metrics:
        found = worst_disagreements(obs, name, True, top=WORST)
        if found.fit_failed:
            lines.append(f"| {name} | fit failed | | | | | |")
            continue
        for r in found.residuals:
            o = r.observation
            low, high = (-o.human_ci[1], -o.human_ci[0]) if o.human_ci else (None, None)
            lines.append(
                f"| {name} | {o.condition} | {o.codec} | {o.extra['level']} | {_f(-o.human, 2)} "
                f"[{_f(low, 2)}, {_f(high, 2)}] | {_f(-r.predicted, 2)} | {r.residual:+.2f} |"
            )
    return lines


def worst_counts(obs: list[Observation], metrics: list[str], top: int = 10) -> list[str]:
    lines = ["| metric | " + " | ".join(CODECS) + " |", "|---|" + "---|" * len(CODECS)]
    for name in metrics:
        found = worst_disagreements(obs, name, True, top=top)
        counts = {c: 0 for c in CODECS}
        for r in found.residuals:
            counts[r.observation.codec] += 1
        lines.append(f"| {name} | " + " | ".join(str(counts[c]) for c in CODECS) + " |")
    return lines


def render(folder: Path) -> str:
    index = read_dataset(folder, get_layout("aic4"))
    obs = observations(index)
    metrics = list(index.metric_names)
    directions = {m: True for m in metrics}
    common = {"n_bootstrap": N_BOOTSTRAP, "seed": SEED, "unit": "JND"}
    by_family = correlate(obs, directions, group="family", **common)
    by_codec = correlate(obs, directions, group="distortion", **common)
    out = [
        f"Computed by `python scripts/findings_aic4.py {folder}` from {index.n_distorted} items "
        f"({index.n_references} sources × {len(CODECS)} codecs × 10 levels); {N_BOOTSTRAP} bootstrap resamples "
        f"of the source images, seed {SEED}.",
        "",
        "#### Agreement with people: all items, classical codecs, JPEG AI",
        "",
        *agreement_table(by_family, by_family, metrics),
        "",
        "#### SROCC per codec (rank among the 9 metrics in brackets)",
        "",
        *codec_table(by_codec, metrics),
        "",
        "#### Is the best metric significantly better? JPEG AI (50 items)",
        "",
        *significance_table(by_family.groups["learned"], by_family.group_comparisons["learned"], "JPEG AI"),
        "",
        "#### Is the best metric significantly better? Classical codecs (250 items)",
        "",
        *significance_table(by_family.groups["classical"], by_family.group_comparisons["classical"], "classical"),
        "",
        "#### Is the best metric significantly better? All 300 items",
        "",
        *significance_table(by_family.metrics, by_family.comparisons, "all"),
        "",
        "#### Does a metric lose agreement on JPEG AI?",
        "",
        *drop_table(obs, metrics),
        "",
        "#### Codec-family bias: mean of predicted JND − JND (negative: the metric sees less distortion "
        "than people did; one logistic per metric fitted on all 300)",
        "",
        *bias_table(obs, metrics),
        "",
        f"#### Where each metric fails: its {WORST} worst items by residual",
        "",
        *worst_table(obs, metrics),
        "",
        "#### Codecs of each metric's 10 worst items",
        "",
        *worst_counts(obs, metrics),
    ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the folder (or unpacked zip) holding the two AIC-4 CSVs")
    args = parser.parse_args(argv)
    sys.stdout.write(render(args.folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
