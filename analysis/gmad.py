"""Group maximum differentiation (gMAD) over stored reconstructions, and its summary from human answers.

K. Ma, Z. Duanmu, Z. Wang, Q. Wu, W. Liu, H. Yong, H. Li, L. Zhang, "Group Maximum Differentiation
Competition: Model Comparison with Few Samples", IEEE TPAMI 42(4), 2020 (online 2018). Among existing
distorted images, a *defender* metric is held (nearly) fixed while an *attacker* metric's scores
differ most: pairs of reconstructions of the same source image whose defender scores lie within a
tolerance and whose attacker scores are farthest apart. People then judge the pairs: when they
prefer the image the attacker rates better, the attack succeeded (the attacker is *aggressive*, the
defender is not *resistant*); when they see no difference or prefer the other, the defender held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_TOLERANCE_SHARE = 0.02  # of the defender's range on the image


@dataclass(frozen=True)
class GmadItem:
    """One stored reconstruction with its defender and attacker values (raw, in each metric's own units)."""

    result_id: int | str
    image: str
    codec: str
    rate_point: float | str | None
    bpp: float | None
    defender: float | None
    attacker: float | None

    def to_dict(self) -> dict:
        return {
            "result_id": self.result_id,
            "codec": self.codec,
            "rate_point": self.rate_point,
            "bpp": self.bpp,
            "defender": self.defender,
            "attacker": self.attacker,
        }


@dataclass(frozen=True)
class GmadPair:
    """``a`` is the reconstruction the attacker rates better; gaps are absolute, in each metric's units."""

    image: str
    a: GmadItem
    b: GmadItem
    defender_gap: float
    attacker_gap: float
    tolerance: float

    def to_dict(self) -> dict:
        return {
            "image": self.image,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "defender_gap": self.defender_gap,
            "attacker_gap": self.attacker_gap,
            "tolerance": self.tolerance,
        }


def gmad_pairs(
    items: Sequence[GmadItem],
    *,
    pairs: int = 10,
    tolerance: float | None = None,
    tolerance_share: float = DEFAULT_TOLERANCE_SHARE,
    attacker_higher_is_better: bool = True,
) -> list[GmadPair]:
    """The ``pairs`` gMAD pairs with the largest attacker gaps among near-equal defender scores.

    Only reconstructions of the same source image are paired. Two reconstructions are near-equal for
    the defender when their defender values differ by at most ``tolerance`` (in the defender's units)
    or, when ``tolerance`` is None, by ``tolerance_share`` of the defender's range over that image's
    reconstructions. Pairs are taken greedily by attacker gap, each reconstruction in at most one pair,
    so the list shows distinct cases; a pair needs a nonzero attacker gap. Items with a missing value
    are skipped. Raises ``ValueError`` for ``pairs < 1`` or a negative tolerance.
    """
    if pairs < 1:
        raise ValueError("pairs must be at least 1")
    if (tolerance is not None and tolerance < 0) or tolerance_share < 0:
        raise ValueError("tolerance must not be negative")
    by_image: dict[str, list[GmadItem]] = {}
    for item in items:
        if item.defender is None or item.attacker is None:
            continue
        if not (np.isfinite(item.defender) and np.isfinite(item.attacker)):
            continue
        by_image.setdefault(item.image, []).append(item)
    candidates: list[GmadPair] = []
    sign = 1.0 if attacker_higher_is_better else -1.0
    for image, group in by_image.items():
        if len(group) < 2:
            continue
        defender = np.array([g.defender for g in group], dtype=np.float64)
        attacker = np.array([g.attacker for g in group], dtype=np.float64)
        tol = tolerance if tolerance is not None else tolerance_share * float(np.ptp(defender))
        defender_gap = np.abs(defender[:, None] - defender[None, :])
        attacker_gap = np.abs(attacker[:, None] - attacker[None, :])
        i_idx, j_idx = np.nonzero(np.triu((defender_gap <= tol) & (attacker_gap > 0), k=1))
        for i, j in zip(i_idx, j_idx):
            a, b = (i, j) if sign * attacker[i] > sign * attacker[j] else (j, i)
            candidates.append(
                GmadPair(image, group[a], group[b], float(defender_gap[i, j]), float(attacker_gap[i, j]), float(tol))
            )
    candidates.sort(key=lambda p: (-p.attacker_gap, p.defender_gap))
    used: set[tuple[str, object]] = set()
    chosen: list[GmadPair] = []
    for pair in candidates:
        key_a, key_b = (pair.image, pair.a.result_id), (pair.image, pair.b.result_id)
        if key_a in used or key_b in used:
            continue
        chosen.append(pair)
        used.update((key_a, key_b))
        if len(chosen) == pairs:
            break
    return chosen


@dataclass(frozen=True)
class GmadJudgement:
    """One human answer on a gMAD pair: the share of people preferring the attacker's better image.

    ``prefers_attacker_choice`` is 1.0 when people chose the image the attacker rates better (``a``),
    0.0 for the other, 0.5 for "no difference" (or a share between 0 and 1 over several observers).
    """

    defender: str
    attacker: str
    prefers_attacker_choice: float


@dataclass(frozen=True)
class GmadScore:
    """gMAD summary of one metric: mean aggressiveness as attacker, mean resistance as defender."""

    metric: str
    aggressiveness: float | None
    resistance: float | None
    n_attacks: int
    n_defences: int

    def to_dict(self) -> dict:
        return {
            "metric": self.metric,
            "aggressiveness": self.aggressiveness,
            "resistance": self.resistance,
            "n_attacks": self.n_attacks,
            "n_defences": self.n_defences,
        }


def gmad_summary(judgements: Sequence[GmadJudgement]) -> list[GmadScore]:
    """Aggressiveness and resistance per metric from human answers on gMAD pairs (Ma et al. 2018).

    For attacker i and defender j, the attack's success s_ij is the mean share of people preferring
    the attacker's better image over the pairs of (i, j). Aggressiveness of i is the mean of s_ij
    over the defenders it attacked; resistance of j is the mean of 1 - s_ij over the attackers it
    faced (both in [0, 1]; higher = better metric). Sorted by resistance, then aggressiveness.
    """
    success: dict[tuple[str, str], list[float]] = {}
    for judgement in judgements:
        value = float(judgement.prefers_attacker_choice)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"prefers_attacker_choice must be in [0, 1] (got {value})")
        success.setdefault((judgement.attacker, judgement.defender), []).append(value)
    s = {key: float(np.mean(values)) for key, values in success.items()}
    metrics = sorted({m for key in s for m in key})
    out = []
    for metric in metrics:
        attacks = [v for (attacker, _), v in s.items() if attacker == metric]
        defences = [1.0 - v for (_, defender), v in s.items() if defender == metric]
        out.append(
            GmadScore(
                metric,
                float(np.mean(attacks)) if attacks else None,
                float(np.mean(defences)) if defences else None,
                len(attacks),
                len(defences),
            )
        )
    out.sort(
        key=lambda g: (
            -(g.resistance if g.resistance is not None else -1.0),
            -(g.aggressiveness if g.aggressiveness is not None else -1.0),
            g.metric,
        )
    )
    return out
