"""Plain records of a human study: the answers that go in and the perceptual scale that comes out.

Scene = the source image id (as ``str``); condition = the condition id (as ``str``). A pairwise answer
is one ``Comparison`` (pwcmp's column layout: observer, scene, condition_A, condition_B,
is_A_selected); a DSIS / ACR answer is one ``Rating`` on the 5-point ITU-R BT.500 impairment scale
(5 = imperceptible, 1 = very annoying; higher is better).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Comparison:
    """One forced-choice trial: ``observer`` compared conditions ``a`` and ``b`` of ``scene``."""

    observer: str
    scene: str
    a: str
    b: str
    a_selected: bool


@dataclass(frozen=True)
class Rating:
    """One DSIS / ACR trial: ``observer`` gave ``condition`` of ``scene`` a ``score`` in 1..5."""

    observer: str
    scene: str
    condition: str
    score: float


@dataclass(frozen=True)
class ConditionScore:
    """A condition's place on the scale with its 95% interval and ``n`` (trials that involved it);
    pairwise scales add ``effective_comparisons`` (``analysis.subjective.design``)."""

    condition: str
    scene: str
    score: float
    ci_low: float
    ci_high: float
    n: int
    effective_comparisons: float | None = None


@dataclass(frozen=True)
class ObserverReport:
    """An observer's screening result: ``outlier`` with a human-readable ``reason`` when flagged."""

    observer: str
    trials: int
    outlier: bool
    reason: str | None = None


@dataclass(frozen=True)
class GroupWarning:
    """A warning about one group (scene) of a scale, e.g. its comparisons cannot measure distances."""

    group: str
    message: str


@dataclass(frozen=True)
class Scale:
    """A perceptual scale: ``unit`` is ``"JOD"`` (pairwise) or ``"MOS"`` (ratings); higher is better.
    ``warnings`` are for people; ``group_warnings`` repeat the per-group ones with their group."""

    unit: str
    conditions: list[ConditionScore]
    observers: list[ObserverReport]
    warnings: list[str] = field(default_factory=list)
    group_warnings: list[GroupWarning] = field(default_factory=list)
