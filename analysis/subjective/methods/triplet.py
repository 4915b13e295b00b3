"""Triplet comparison as JPEG AIC-3 runs it (Testolina et al. 2024, arXiv 2410.09501): the pivot is the
original, left and right are two reconstructions of it, and the observer names the side that differs
more from the pivot (or "not sure").

Trials are drawn on the least-served group, a least-shown pair of its reconstructions (balanced; AIC-3
draws its triplets in fixed batches, so active sampling falls back to balanced here). Trap: the
reference against the group's most distorted condition (the distorted side must be named); ``bias``:
one reconstruction on both sides (AIC-3's bias triplets; any answer is kept for the scaler). The scale
is the JND scale of ``analysis.subjective.triplet.triplet_scale`` (AIC-3's reconstruction), turned to
quality relative to the group's reference: score = -JND, so 0 is the reference and worse is negative.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from analysis.subjective.methods.base import Answer, InvalidAnswer, Stimulus, StudyMethod, Trial
from analysis.subjective.methods.pairwise import least_served_group
from analysis.subjective.sampling import balanced_next_pair
from analysis.subjective.types import ConditionScore, ObserverReport, Scale

CHOICES = ("left", "right", "not_sure")
BOOSTS = ("zoom", "flicker", "amplify")  # AIC-3's boosting: x2 zoom, flicker against the pivot, amplification


class TripletMethod(StudyMethod):
    name = "triplet"
    unit = "JND"
    same_stimulus_control = "bias"
    page_template = "study_triplet.html"
    page_script = "study_triplet.js"
    scale_note = "JND scale per source image (AIC-3 triplet reconstruction), the reference at 0"
    scaled_by_worker = True
    screens_traps = True  # triplet_scale screens observers on trap triplets itself (AIC-3)

    def trap(self, group: str, reference: Stimulus, distorted: Sequence[Stimulus], rng: np.random.Generator) -> Trial:
        strongest = min(distorted, key=lambda s: s.trap_rank)
        sides = [reference.id, strongest.id]
        if rng.random() < 0.5:
            sides.reverse()
        return Trial(group, sides[0], sides[1], "trap")

    def draw_regular(
        self,
        groups: Mapping[str, Sequence[Stimulus]],
        history: Sequence[Answer],
        sampling: str,
        rng: np.random.Generator,
    ) -> Trial:
        group = least_served_group(groups, history, rng)
        distorted = [s.id for s in groups[group] if not s.reference]
        candidates = distorted if len(distorted) >= 2 else [s.id for s in groups[group]]
        rows = [h for h in history if h.group == group and h.b is not None and h.a != h.b]
        counts: Counter[frozenset] = Counter(frozenset((h.a, h.b)) for h in rows)
        left, right = balanced_next_pair(candidates, dict(counts), rng)
        return Trial(group, left, right)

    def check_answer(self, choice: str | None, score: int | None) -> None:
        if choice not in CHOICES or score is not None:
            raise InvalidAnswer(
                'a triplet trial is answered with "choice": "left", "right" or "not_sure" '
                "(the side that differs more from the pivot; no score)"
            )

    def trap_passed(self, answer: Answer, references: set[str]) -> bool:
        """The distorted side must be named; "not sure" on a trap fails it (as ``triplet.trap_passed``)."""
        chosen = {"left": answer.a, "right": answer.b}.get(answer.choice or "")
        return chosen is not None and chosen not in references

    def scale(
        self, answers: Sequence[Answer], references: Mapping[str, str], *, bootstrap: int, seed: int
    ) -> Scale | None:
        from analysis.subjective.triplet import TripletAnswer, triplet_scale

        rows = [
            to_triplet_answer(TripletAnswer, h, references)
            for h in answers
            if h.choice is not None and h.b is not None and h.group in references
        ]
        if not rows:
            return None
        result = triplet_scale(rows, dict(references), bootstrap=bootstrap, seed=seed)
        return jnd_to_scale(result, answers)

    def trial_body(self, a: int | str, b: int | str | None, url: Callable[[str], str]) -> dict:
        return {
            "pivot": {"url": url("pivot")},
            "left": {"condition_id": a, "url": url("left")},
            "right": {"condition_id": b, "url": url("right")},
        }


def to_triplet_answer(cls: type, h: Answer, references: Mapping[str, str]):
    """An ``Answer`` (left = ``a``, right = ``b``, pivot = the group's reference) as the scaler's record."""
    return cls(
        observer=h.observer,
        group=h.group,
        pivot=h.pivot or references[h.group],
        left=h.a,
        right=h.b,
        choice=h.choice,
        boosted=h.boosted,
        trap=h.control == "trap",
        bias=h.a == h.b,
        batch=h.batch,
    )


def jnd_to_scale(result, answers: Sequence[Answer]) -> Scale:
    """The scaler's JND per condition (higher = more distorted) as quality: score = -JND, interval flipped;
    observers its trap screening left out are reported as outliers."""
    conditions = [
        ConditionScore(
            condition=c.label, scene=c.group, score=-c.jnd, ci_low=-c.ci_high, ci_high=-c.ci_low, n=c.answers
        )
        for c in result.conditions
    ]
    trials = Counter(h.observer for h in answers)
    screened = set(result.observers_screened_out)
    reports = [
        ObserverReport(
            o, n, o in screened, "failed the trap-triplet screening (AIC-3, Otsu threshold)" if o in screened else None
        )
        for o, n in sorted(trials.items())
    ]
    return Scale("JND", conditions, reports, list(result.warnings))
