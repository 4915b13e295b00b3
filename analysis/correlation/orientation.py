"""Orientation: every metric is turned so that a higher value means better quality.

Lower-is-better metrics (LPIPS, DISTS, GMSD, DMOS-like scores) are negated, so a positive
correlation always means agreement with people (the convention of VQEG and of pyiqa's tables,
which report absolute correlations; here the sign is kept and made meaningful instead).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def orient(values: Sequence[float] | np.ndarray, higher_is_better: bool) -> tuple[np.ndarray, bool]:
    """``(values as float64, flipped)``: negated when ``higher_is_better`` is False (then ``flipped``)."""
    array = np.asarray(values, dtype=np.float64)
    if higher_is_better:
        return array, False
    return -array, True
