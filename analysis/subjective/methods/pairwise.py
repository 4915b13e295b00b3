"""Pairwise comparison (two-alternative forced choice): which of two conditions is closer to the original.

Scaled to JOD per group with Thurstone Case V (``analysis.subjective.pairwise.scale_pairwise``, after
pwcmp, Perez-Ortiz and Mantiuk 2017), the group's hidden reference at 0. Trials are drawn on the
least-compared group, by balanced or active (ASAP) sampling. Trap: the reference against the group's
most distorted condition (the reference must win); ``identical``: one condition against itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from analysis.subjective.methods.base import Answer, InvalidAnswer, Stimulus, StudyMethod, Trial, group_order
from analysis.subjective.pairwise import scale_pairwise
from analysis.subjective.sampling import active_next_pair, balanced_next_pair
from analysis.subjective.types import Comparison, Scale


def least_served_group(
    groups: Mapping[str, Sequence[Stimulus]], history: Sequence[Answer], rng: np.random.Generator
) -> str:
    """A group with the fewest two-stimulus trials so far (ties at random)."""
    served = Counter(h.group for h in history if h.b is not None and h.a != h.b)
    fewest = min(served.get(g, 0) for g in groups)
    candidates = sorted((g for g in groups if served.get(g, 0) == fewest), key=group_order)
    return candidates[int(rng.integers(len(candidates)))]


class PairwiseMethod(StudyMethod):
    name = "pairwise"
    unit = "JOD"
    same_stimulus_control = "identical"
    scale_note = "Thurstone Case V scale in JOD per source image"

    def trap(self, group: str, reference: Stimulus, distorted: Sequence[Stimulus], rng: np.random.Generator) -> Trial:
        lowest = min(distorted, key=lambda s: s.trap_rank)
        pair = [reference.id, lowest.id]
        if rng.random() < 0.5:
            pair.reverse()
        return Trial(group, pair[0], pair[1], "trap")

    def draw_regular(
        self,
        groups: Mapping[str, Sequence[Stimulus]],
        history: Sequence[Answer],
        sampling: str,
        rng: np.random.Generator,
    ) -> Trial:
        group = least_served_group(groups, history, rng)
        conditions = [s.id for s in groups[group]]
        rows = [h for h in history if h.group == group and h.b is not None and h.a != h.b]
        if sampling == "active":
            reference = next(s.id for s in groups[group] if s.reference)
            comparisons = [
                Comparison(observer=h.observer, scene=group, a=h.a, b=h.b, a_selected=h.choice == "a")
                for h in rows
                if h.choice is not None and h.b is not None  # rows hold only two-sided trials
            ]
            a, b = active_next_pair(conditions, comparisons, rng, references={group: reference})
        else:
            counts: Counter[frozenset] = Counter(frozenset((h.a, h.b)) for h in rows)
            a, b = balanced_next_pair(conditions, dict(counts), rng)
        return Trial(group, a, b)

    def check_answer(self, choice: str | None, score: int | None) -> None:
        if choice not in ("a", "b") or score is not None:
            raise InvalidAnswer('a pairwise trial is answered with "choice": "a" or "b" (and no score)')

    def trap_passed(self, answer: Answer, references: set[str]) -> bool:
        return (answer.a if answer.choice == "a" else answer.b) in references

    def scale(
        self, answers: Sequence[Answer], references: Mapping[str, str], *, bootstrap: int, seed: int
    ) -> Scale | None:
        comparisons = [
            Comparison(observer=h.observer, scene=h.group, a=h.a, b=h.b, a_selected=h.choice == "a")
            for h in answers
            if h.b is not None and h.a != h.b
        ]
        if not comparisons:
            return None
        return scale_pairwise(
            comparisons, references=references, n_bootstrap=bootstrap, seed=seed, exclude_outliers=True
        )

    def trial_body(self, a: int | str, b: int | str | None, url: Callable[[str], str]) -> dict:
        return {
            "reference_url": url("reference"),
            "a": {"condition_id": a, "url": url("a")},
            "b": {"condition_id": b, "url": url("b")},
        }
