"""How far can pwcmp's JOD be trusted? A simulated pairwise study with a known truth (issue 29, section 4).

``--observers`` Thurstone observers (1 JOD = 75% preference, ``analysis.subjective.simulate``) give
``--answers`` answers in all to a study of ``--scenes`` scenes, each a hidden reference at 0 JOD and
``--conditions`` conditions evenly spaced from ``--low`` to ``--high`` JOD below it. Trials are drawn as
the app draws them (``app.services.studies.studies._draw_pair``): the scene with the fewest answers so far, then a
pair of its conditions by the study's sampling, ``random`` (``balanced_next_pair``: a least-compared
pair) or ``active`` (``active_next_pair``: ASAP's information gain weighted towards measurable pairs).
Every study is scaled by ``scale_pairwise`` (pwcmp's ``pw_scale`` per scene, reference at 0, observer
screening, ``--bootstrap`` observer resamples) under each ``--priors``, and the non-reference conditions
are compared with the truth:

- slope: least-squares slope of estimate on truth, pooled over conditions and studies (1 = unbiased;
  0.5 = distances come out at half their true size);
- error: mean |estimate - truth| in JOD;
- coverage: share of 95% intervals that hold the truth;
- flagged: share of scenes that ``analysis.subjective.design`` warns about.

    python benchmarks/pairwise_simulation.py                       # the issue's setup, both priors
    python benchmarks/pairwise_simulation.py --sampling random active --repeats 10
    python benchmarks/pairwise_simulation.py --scenes 1 --conditions 4 --answers 1800   # a measurable design
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from analysis.subjective.pairwise import scale_pairwise  # noqa: E402
from analysis.subjective.sampling import active_next_pair, balanced_next_pair  # noqa: E402
from analysis.subjective.simulate import preference_probability  # noqa: E402
from analysis.subjective.types import Comparison  # noqa: E402


def simulate_study(
    truth: dict[str, dict[str, float]], observers: int, answers: int, sampling: str, rng: np.random.Generator
) -> list[Comparison]:
    """One study's answers: observers take turns, each trial from the least-answered scene."""
    per_scene = {s: 0 for s in truth}
    pair_counts: dict[str, dict[frozenset, int]] = {s: {} for s in truth}
    answered: dict[str, list[Comparison]] = {s: [] for s in truth}
    out = []
    for t in range(answers):
        observer = f"obs{t % observers:02d}"
        fewest = min(per_scene.values())
        scene = str(rng.choice(sorted(s for s, n in per_scene.items() if n == fewest)))
        names = list(truth[scene])
        if sampling == "active":
            a, b = active_next_pair(names, answered[scene], rng, references={scene: "ref"})
        else:
            a, b = balanced_next_pair(names, pair_counts[scene], rng)
        chose_a = bool(rng.random() < preference_probability(truth[scene][a], truth[scene][b]))
        comparison = Comparison(observer, scene, a, b, chose_a)
        out.append(comparison)
        answered[scene].append(comparison)
        per_scene[scene] += 1
        key = frozenset((a, b))
        pair_counts[scene][key] = pair_counts[scene].get(key, 0) + 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observers", type=int, default=15)
    parser.add_argument("--answers", type=int, default=600)
    parser.add_argument("--scenes", type=int, default=10)
    parser.add_argument("--conditions", type=int, default=5, help="non-reference conditions per scene")
    parser.add_argument("--low", type=float, default=1.5, help="JOD below the reference of the best condition")
    parser.add_argument("--high", type=float, default=6.7, help="JOD below the reference of the worst condition")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--bootstrap", type=int, default=500)
    parser.add_argument("--priors", nargs="+", default=["gaussian", "bounded"], choices=["gaussian", "bounded", "none"])
    parser.add_argument("--sampling", nargs="+", default=["random"], choices=["random", "active"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    levels = -np.linspace(args.low, args.high, args.conditions)
    truth = {str(s): {"ref": 0.0, **{f"c{x}": float(v) for x, v in enumerate(levels)}} for s in range(args.scenes)}
    pairs = args.scenes * (args.conditions + 1) * args.conditions // 2
    print(
        f"{args.observers} observers, {args.answers} answers, {args.scenes} scene(s) x (reference + "
        f"{args.conditions} conditions at {', '.join(f'{v:.2f}' for v in levels)} JOD): "
        f"{args.answers / pairs:.1f} answers per pair; {args.repeats} studies, {args.bootstrap} bootstrap resamples"
    )
    print(
        f"{'sampling':>8} {'prior':>9} {'slope':>6} {'error':>6} {'coverage':>9} {'flagged':>8} {'eff/n':>6} {'s':>5}"
    )
    for sampling in args.sampling:
        studies = [
            simulate_study(truth, args.observers, args.answers, sampling, np.random.default_rng([args.seed, r]))
            for r in range(args.repeats)
        ]
        for prior in args.priors:
            start = time.perf_counter()
            est, true, covered, flagged, eff, shown = [], [], [], [], [], []
            for r, comparisons in enumerate(studies):
                scale = scale_pairwise(
                    comparisons, references={s: "ref" for s in truth}, n_bootstrap=args.bootstrap, seed=r, prior=prior
                )
                warned = {w.group for w in scale.group_warnings if "unanimous" in w.message}
                flagged.extend(s in warned for s in truth)
                for c in scale.conditions:
                    if c.condition == "ref":
                        continue
                    value = truth[c.scene][c.condition]
                    est.append(c.score)
                    true.append(value)
                    covered.append(c.ci_low <= value <= c.ci_high)
                    eff.append(c.effective_comparisons)
                    shown.append(c.n)
            est_a, true_a = np.array(est), np.array(true)
            centred = true_a - true_a.mean()
            slope = float(np.sum(centred * (est_a - est_a.mean())) / np.sum(centred**2))
            seconds = time.perf_counter() - start
            print(
                f"{sampling:>8} {prior:>9} {slope:>6.2f} {np.mean(np.abs(est_a - true_a)):>6.2f} "
                f"{np.mean(covered):>9.1%} {np.mean(flagged):>8.0%} {np.sum(eff) / np.sum(shown):>6.2f} {seconds:>5.0f}"
            )


if __name__ == "__main__":
    main()
