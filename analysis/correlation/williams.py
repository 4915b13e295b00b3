"""Williams' test for the difference of two dependent correlations sharing one variable.

E. J. Williams, "The comparison of regression variables", JRSS B 21 (1959); the form used in
machine-translation metrics evaluation (Graham and Baldwin 2014; google-research/mt-metrics-eval
``stats.WilliamsTest``): with r12, r13 each metric's correlation with the human scores and r23 the
correlation of the two metrics,

    K = 1 - r12^2 - r13^2 - r23^2 + 2 r12 r13 r23
    t = (r12 - r13) sqrt((n - 1)(1 + r23)) / sqrt(2 K (n - 1)/(n - 3) + ((r12 + r13)/2)^2 (1 - r23)^3)

with n - 3 degrees of freedom.
"""

from __future__ import annotations

import math

from scipy import stats


def williams_test(r12: float, r13: float, r23: float, n: int, *, two_sided: bool = True) -> tuple[float, float]:
    """``(t, p)`` of Williams' test that r12 = r13 (two-sided by default; one-sided: P(T >= t)).

    Raises ``ValueError`` for n <= 3 or correlations outside [-1, 1].
    """
    if n <= 3:
        raise ValueError(f"Williams' test needs n > 3 (got {n})")
    for r in (r12, r13, r23):
        if not -1.0 <= r <= 1.0:
            raise ValueError(f"correlation {r} outside [-1, 1]")
    k = 1 - r12**2 - r13**2 - r23**2 + 2 * r12 * r13 * r23
    denominator = 2 * k * (n - 1) / (n - 3) + ((r12 + r13) / 2) ** 2 * (1 - r23) ** 3
    if denominator <= 0:  # degenerate: the two metrics are the same variable (r23 = 1, r12 = r13)
        return 0.0, 1.0
    t = (r12 - r13) * math.sqrt((n - 1) * (1 + r23)) / math.sqrt(denominator)
    df = n - 3
    p = 2 * stats.t.sf(abs(t), df) if two_sided else stats.t.sf(t, df)
    return float(t), float(min(1.0, p))
