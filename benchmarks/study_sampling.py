"""Pairwise-study statistics on simulated observers (issue 9), each part measured in one run.

Part ``sampling``: active (ASAP-style) vs balanced pair sampling.

Simulated Thurstone Case V observers (``analysis.subjective.simulate``) answer one scene of
``--conditions`` conditions whose true JOD scores are drawn at random in [-spread, 0] (the hidden
reference at 0) for each repetition. Each sampler picks the pairs one at a time
(``balanced_next_pair`` / ``active_next_pair``); every ``--step`` answers the scene is scaled with
the same estimator (``thurstone_case_v``, pwcmp's prior, reference fixed at 0) and the scale error
is the RMSE against the truth over the non-reference conditions. The error curve is averaged over
``--repeats`` repetitions (both samplers see the same true scales), and the comparisons each needs
to bring the mean error to ``--target`` JOD are printed with their ratio (active / balanced).

Part ``coverage``: ``--coverage-repeats`` simulated studies (``--coverage-observers`` Thurstone
observers, every pair of ``COVERAGE_TRUTH`` once each) scaled by ``scale_pairwise`` with 500 observer
bootstrap resamples; prints how often the 95% intervals hold the true JOD of each non-reference
condition (the issue asks for 90-98%).

    python benchmarks/study_sampling.py
    python benchmarks/study_sampling.py --parts coverage --coverage-repeats 200
    python benchmarks/study_sampling.py --parts sampling --conditions 12 --target 0.4 --repeats 20
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
from analysis.subjective.simulate import preference_probability, simulate_observers  # noqa: E402
from analysis.subjective.thurstone import link_components, thurstone_case_v  # noqa: E402
from analysis.subjective.types import Comparison  # noqa: E402


def run_study(method: str, truth: np.ndarray, budget: int, step: int, rng: np.random.Generator) -> np.ndarray:
    """RMSE vs truth after every ``step`` answers, for one simulated study of ``budget`` answers."""
    names = [f"c{x}" for x in range(truth.size)]
    index = {c: x for x, c in enumerate(names)}
    references = {"0": names[0]}
    comparisons: list[Comparison] = []
    counts: dict[frozenset, int] = {}
    wins = np.zeros((truth.size, truth.size))
    errors = []
    for t in range(1, budget + 1):
        if method == "active":
            a, b = active_next_pair(names, comparisons, rng, references=references)
        else:
            a, b = balanced_next_pair(names, counts, rng)
        ia, ib = index[a], index[b]
        chose_a = bool(rng.random() < preference_probability(truth[ia], truth[ib]))
        comparisons.append(Comparison("sim", "0", a, b, chose_a))
        counts[frozenset((a, b))] = counts.get(frozenset((a, b)), 0) + 1
        wins[(ia, ib) if chose_a else (ib, ia)] += 1
        if t % step == 0:
            linked, _ = link_components(wins)
            scores = thurstone_case_v(linked, fixed=0)
            errors.append(float(np.sqrt(np.mean((scores[1:] - truth[1:]) ** 2))))
    return np.array(errors)


def needed(curve: np.ndarray, step: int, target: float) -> int | None:
    """Answers after which the mean error first reaches ``target`` (None if never within budget)."""
    hit = np.flatnonzero(curve <= target)
    return int((hit[0] + 1) * step) if hit.size else None


COVERAGE_TRUTH = {"ref": 0.0, "q4": -0.6, "q3": -1.4, "q2": -2.3, "q1": -3.4}


def coverage(repeats: int, observers: int, seed: int) -> None:
    """Share of 95% bootstrap intervals holding the true score, over ``repeats`` simulated studies."""
    pairs = [(a, b) for x, a in enumerate(COVERAGE_TRUTH) for b in list(COVERAGE_TRUTH)[x + 1 :]]
    hits: dict[str, list[bool]] = {c: [] for c in COVERAGE_TRUTH if c != "ref"}
    start = time.perf_counter()
    for r in range(repeats):
        comparisons = simulate_observers(COVERAGE_TRUTH, pairs, observers, np.random.default_rng([seed, r, 2]))
        scale = scale_pairwise(comparisons, references={"0": "ref"}, n_bootstrap=500, seed=r)
        for c in scale.conditions:
            if c.condition in hits:
                hits[c.condition].append(c.ci_low <= COVERAGE_TRUTH[c.condition] <= c.ci_high)
    seconds = time.perf_counter() - start
    every = [h for v in hits.values() for h in v]
    print(
        f"coverage of 95% intervals: {observers} observers x {len(pairs)} pairs, {repeats} studies, "
        f"500 bootstrap resamples each ({seconds:.0f} s)"
    )
    for c, v in hits.items():
        print(f"  {c} (true {COVERAGE_TRUTH[c]:+.1f} JOD): {np.mean(v):.1%}")
    print(f"  all conditions: {np.mean(every):.1%} of {len(every)} intervals (target 90-98%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", type=int, default=10)
    parser.add_argument("--spread", type=float, default=6.0, help="true scores drawn in [-spread, 0] JOD")
    parser.add_argument("--budget", type=int, default=900)
    parser.add_argument("--step", type=int, default=30)
    parser.add_argument("--target", type=float, default=0.5, help="target RMSE in JOD")
    parser.add_argument("--repeats", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parts", nargs="+", default=["sampling", "coverage"], choices=["sampling", "coverage"])
    parser.add_argument("--coverage-repeats", type=int, default=200)
    parser.add_argument("--coverage-observers", type=int, default=15)
    args = parser.parse_args()
    if "sampling" in args.parts:
        sampling(args)
    if "coverage" in args.parts:
        coverage(args.coverage_repeats, args.coverage_observers, args.seed)


def sampling(args: argparse.Namespace) -> None:
    """Comparisons needed by active and balanced sampling to reach the target scale error."""

    truth_rng = np.random.default_rng(args.seed)
    truths = [
        np.concatenate([[0.0], -np.sort(truth_rng.uniform(0, args.spread, args.conditions - 1))])
        for _ in range(args.repeats)
    ]
    curves = {}
    seconds = {}
    for method in ("balanced", "active"):
        start = time.perf_counter()
        runs = [
            run_study(method, truth, args.budget, args.step, np.random.default_rng([args.seed, r, 1]))
            for r, truth in enumerate(truths)
        ]
        seconds[method] = time.perf_counter() - start
        curves[method] = np.mean(runs, axis=0)
    print(
        f"{args.conditions} conditions, true scores in [-{args.spread:g}, 0] JOD, {args.repeats} repetitions, "
        f"target RMSE {args.target:g} JOD"
    )
    print(f"{'answers':>8} {'balanced':>9} {'active':>9}   (mean RMSE, JOD)")
    for x in range(0, len(curves["balanced"]), max(1, len(curves["balanced"]) // 10)):
        print(f"{(x + 1) * args.step:>8} {curves['balanced'][x]:>9.3f} {curves['active'][x]:>9.3f}")
    n_bal = needed(curves["balanced"], args.step, args.target)
    n_act = needed(curves["active"], args.step, args.target)
    for method, n in (("balanced", n_bal), ("active", n_act)):
        shown = n if n is not None else f"> {args.budget}"
        print(f"{method:>8}: {shown} answers to reach RMSE {args.target:g} JOD ({seconds[method]:.1f} s simulated)")
    if n_bal and n_act:
        print(f"ratio active / balanced = {n_act / n_bal:.2f} ({1 - n_act / n_bal:.0%} fewer comparisons)")
    else:
        print("ratio: not measurable (a sampler did not reach the target within the budget; raise --budget)")


if __name__ == "__main__":
    main()
