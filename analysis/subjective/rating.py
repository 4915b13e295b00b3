"""DSIS / ACR ratings -> MOS with 95% t-intervals and ITU-R BT.500 observer screening (interface)."""
from __future__ import annotations

from collections.abc import Iterable

from analysis.subjective.types import Rating, Scale


def scale_ratings(ratings: Iterable[Rating], *, exclude_outliers: bool = True) -> Scale:
    """MOS per (scene, condition), MOS +/- t(0.975, N-1) s / sqrt(N); BT.500 beta2 screening."""
    raise NotImplementedError("scale_ratings: being implemented (H3a)")
