"""Triplet scaling on simulated studies with a known truth: error, bias and 95% interval coverage.

``--studies`` simulated AIC-3 studies (``analysis.subjective.simulate_triplet``: two sources of six
conditions up to 2.5 JND, ``--honest`` Thurstone observers, half of them on boosted trials seen through
``h(d) = 2 d - 0.1 d^2``, plus ``--clickers`` random clickers; six traps and one bias triplet each,
"not sure" where a comparison is hard) are scaled by ``triplet_scale`` with ``--bootstrap`` observer
resamples. Prints the mean error and bias in JND, how often the 95% intervals hold the truth, the
boosting gain against the true one, and the same without screening.

    python benchmarks/triplet_coverage.py
    python benchmarks/triplet_coverage.py --studies 20 --bootstrap 200
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from analysis.subjective.simulate_triplet import simulate_triplets  # noqa: E402
from analysis.subjective.triplet import triplet_scale  # noqa: E402

TRUTH = {"a": [0.0, 0.3, 0.7, 1.2, 1.8, 2.5], "b": [0.0, 0.2, 0.6, 1.0, 1.6, 2.2]}
GAIN = (2.0, -0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=10)
    parser.add_argument("--bootstrap", type=int, default=100)
    parser.add_argument("--honest", type=int, default=80)
    parser.add_argument("--clickers", type=int, default=8)
    args = parser.parse_args(argv)
    truth = {f"{g}{i}": x for g, values in TRUTH.items() for i, x in enumerate(values)}
    true_gain = float(np.median([GAIN[0] + GAIN[1] * x for x in truth.values() if x > 0]))
    references = {g: f"{g}0" for g in TRUTH}
    rows = {"screened": [], "unscreened": []}
    gains, inside = [], []
    t = time.perf_counter()
    for study in range(args.studies):
        answers = simulate_triplets(TRUTH, gain=GAIN, honest=args.honest, clickers=args.clickers, seed=1000 + study)
        scale = triplet_scale(answers, references, bootstrap=args.bootstrap, seed=study)
        raw = triplet_scale(answers, references, bootstrap=0, screening="none")
        for name, s in (("screened", scale), ("unscreened", raw)):
            rows[name] += [(c.jnd, truth[c.label]) for c in s.conditions if not c.reference]
        inside += [c.ci_low <= truth[c.label] <= c.ci_high for c in scale.conditions if not c.reference]
        gains.append(scale.boost_gain)
    print(
        f"{args.studies} simulated studies, {args.honest} honest observers + {args.clickers} clickers each, "
        f"{args.bootstrap} bootstrap resamples ({time.perf_counter() - t:.0f} s)"
    )
    for name, pairs in rows.items():
        est, tru = np.array(pairs).T
        print(
            f"  {name:10s} mean |error| {np.mean(np.abs(est - tru)):.3f} JND, bias {np.mean(est - tru):+.3f} JND, "
            f"slope {np.polyfit(tru, est, 1)[0]:.2f}"
        )
    print(f"  95% intervals hold the truth for {np.mean(inside):.0%} of {len(inside)} conditions")
    print(f"  boosting gain {np.mean(gains):.2f} +- {np.std(gains):.2f} (true {true_gain:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
