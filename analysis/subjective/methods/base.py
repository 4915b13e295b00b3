"""The contract every study method follows: draw trials, check answers, turn answers into a scale.

A method is pure (no web, queue or database): the service hands it plain records and stores what it
returns. Ids are strings here, as elsewhere in ``analysis.subjective``: a ``group`` is the source image
(or an imported study's scene/source), a stimulus id is a condition id.

- ``Stimulus``: one condition of a group; ``reference`` marks the group's hidden reference (the
  original), ``trap_rank`` orders the distorted ones (smallest = strongest distortion, the trap's pick).
- ``Trial``: what one drawn trial shows: ``a`` (pairwise A, DSIS test image, triplet left) and ``b``
  (pairwise B, triplet right; None for DSIS), with its credibility ``control``.
- ``Answer``: a served trial as the method needs it back (``choice``/``score`` None while unanswered).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from analysis.subjective.types import Scale

REGULAR, TRAP, REPEAT = "regular", "trap", "repeat"


@dataclass(frozen=True)
class Stimulus:
    id: str
    group: str
    reference: bool
    trap_rank: tuple = ()


@dataclass(frozen=True)
class Trial:
    group: str
    a: str
    b: str | None
    control: str = REGULAR


@dataclass(frozen=True)
class Answer:
    observer: str
    group: str
    a: str
    b: str | None
    control: str
    choice: str | None = None
    score: int | None = None
    boosted: bool = False
    pivot: str | None = None  # triplet: None = the group's reference
    batch: str = ""  # triplet: the trap-screening unit ("" = the observer)


def group_order(group: str) -> tuple:
    """Numeric ids in numeric order (source image ids), then other names alphabetically."""
    return (0, int(group), "") if group.isdigit() else (1, 0, group)


class InvalidAnswer(ValueError):
    """An answer whose fields do not fit the method (the API answers 422 with the message)."""


class StudyMethod(ABC):
    """One study method. Subclasses set the class attributes and implement the abstract methods;
    ``registry.register`` makes them known by ``name``."""

    name: ClassVar[str]
    unit: ClassVar[str]  # JOD | MOS | JND
    same_stimulus_control: ClassVar[str | None] = None  # pairwise "identical", triplet "bias": a vs itself
    page_template: ClassVar[str] = "study_participant.html"  # participant page (templates/)
    page_script: ClassVar[str] = "study_participant.js"  # its script (static/)
    scale_note: ClassVar[str] = ""  # what the owner page says about the scale
    scaled_by_worker: ClassVar[bool] = False  # True: GET /scale answers 202 until a worker computed it
    screens_traps: ClassVar[bool] = False  # True: the scaler screens on trap answers itself (gets them all)

    def plan(self, total: int, traps: int, same_stimulus: int, rng: np.random.Generator) -> list[str]:
        """Control kind per position: traps, one repeat, same-stimulus trials; at most a third of the
        trials, never the first (the repeat needs an earlier answered trial, so it goes in the second half)."""
        same = same_stimulus if self.same_stimulus_control else 0
        kind = self.same_stimulus_control or ""
        priority = ([TRAP] if traps else []) + [REPEAT] + ([kind] if same else [])
        priority += [TRAP] * max(0, traps - 1) + [kind] * max(0, same - 1)
        controls = priority[: total // 3]
        plan = [REGULAR] * total
        free = list(range(1, total))
        if REPEAT in controls:
            late = [p for p in free if p >= total // 2] or free
            slot = int(rng.choice(late))
            plan[slot] = REPEAT
            free.remove(slot)
            controls.remove(REPEAT)
        for control, slot in zip(controls, rng.permutation(free)):
            plan[int(slot)] = control
        return plan

    def repeat(self, original: Trial) -> Trial:
        """The trial shown again as a consistency check (sides swapped where there are two)."""
        if original.b is None:
            return Trial(original.group, original.a, None, REPEAT)
        return Trial(original.group, original.b, original.a, REPEAT)

    def draw_control(self, control: str, groups: Mapping[str, Sequence[Stimulus]], rng: np.random.Generator) -> Trial:
        """A trap or same-stimulus trial on a random group."""
        ordered = sorted(groups, key=group_order)
        group = ordered[int(rng.choice(len(ordered)))]
        stimuli = groups[group]
        reference = next(s for s in stimuli if s.reference)
        distorted = [s for s in stimuli if not s.reference]
        if control == self.same_stimulus_control:
            same = distorted[int(rng.integers(len(distorted)))]
            return Trial(group, same.id, same.id, control)
        return self.trap(group, reference, distorted, rng)

    @abstractmethod
    def trap(self, group: str, reference: Stimulus, distorted: Sequence[Stimulus], rng: np.random.Generator) -> Trial:
        """A trial whose right answer is known."""

    @abstractmethod
    def draw_regular(
        self,
        groups: Mapping[str, Sequence[Stimulus]],
        history: Sequence[Answer],
        sampling: str,
        rng: np.random.Generator,
    ) -> Trial:
        """The next regular trial, given every trial served so far in the study."""

    @abstractmethod
    def check_answer(self, choice: str | None, score: int | None) -> None:
        """Raise ``InvalidAnswer`` when ``choice``/``score`` do not answer this method's trial."""

    @abstractmethod
    def trap_passed(self, answer: Answer, references: set[str]) -> bool:
        """Whether a trap trial was answered as expected."""

    @abstractmethod
    def scale(
        self, answers: Sequence[Answer], references: Mapping[str, str], *, bootstrap: int, seed: int
    ) -> Scale | None:
        """The scale from the answers of the observers kept after trap screening; None when no answer counts."""

    @abstractmethod
    def trial_body(self, a: int | str, b: int | str | None, url: Callable[[str], str]) -> dict:
        """The stimulus part of ``/next``'s answer; ``url(which)`` gives a stimulus image's address."""
