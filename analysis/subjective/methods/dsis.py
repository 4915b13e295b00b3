"""DSIS (double-stimulus impairment scale, ITU-R BT.500): the original and a test image, rated 1..5.

Scaled to MOS with 95% t-intervals and BT.500 screening (``analysis.subjective.rating``). A regular
trial shows a least-rated condition of the study; the trap shows the hidden reference as the test
image (a score of 4 or 5 passes).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from analysis.subjective.methods.base import Answer, InvalidAnswer, Stimulus, StudyMethod, Trial, group_order
from analysis.subjective.rating import scale_ratings
from analysis.subjective.types import Rating, Scale

TRAP_PASS = 4  # hidden reference rated at least "perceptible but not annoying"


class DsisMethod(StudyMethod):
    name = "dsis"
    unit = "MOS"
    scale_note = "Mean opinion score (5 imperceptible .. 1 very annoying)"

    def trap(self, group: str, reference: Stimulus, distorted: Sequence[Stimulus], rng: np.random.Generator) -> Trial:
        return Trial(group, reference.id, None, "trap")

    def draw_regular(
        self,
        groups: Mapping[str, Sequence[Stimulus]],
        history: Sequence[Answer],
        sampling: str,
        rng: np.random.Generator,
    ) -> Trial:
        """A least-rated condition (ties at random); both samplings, as a rating carries no pair for ASAP."""
        counts = Counter(h.a for h in history if h.control == "regular")
        stimuli = sorted((s for rows in groups.values() for s in rows), key=lambda s: group_order(s.id))
        fewest = min(counts.get(s.id, 0) for s in stimuli)
        candidates = [s for s in stimuli if counts.get(s.id, 0) == fewest]
        chosen = candidates[int(rng.integers(len(candidates)))]
        return Trial(chosen.group, chosen.id, None)

    def check_answer(self, choice: str | None, score: int | None) -> None:
        if choice is not None or score is None or not 1 <= score <= 5:
            raise InvalidAnswer('a DSIS trial is answered with "score": an integer 1..5 (and no choice)')

    def trap_passed(self, answer: Answer, references: set[str]) -> bool:
        return (answer.score or 0) >= TRAP_PASS

    def scale(
        self, answers: Sequence[Answer], references: Mapping[str, str], *, bootstrap: int, seed: int
    ) -> Scale | None:
        ratings = [
            Rating(observer=h.observer, scene=h.group, condition=h.a, score=float(h.score))
            for h in answers
            if h.score is not None
        ]
        return scale_ratings(ratings, exclude_outliers=True) if ratings else None

    def trial_body(self, a: int | str, b: int | str | None, url: Callable[[str], str]) -> dict:
        return {"reference_url": url("reference"), "a": {"condition_id": a, "url": url("a")}}
