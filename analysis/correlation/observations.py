"""One judged condition and the keys the correlation report breaks down by."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

GROUPS = ("overall", "family", "codec", "band", "image", "distortion")
BANDS = ("low", "mid", "high")  # terciles of bpp


@dataclass(frozen=True)
class Observation:
    """One condition people judged: the metrics' values on exactly those pixels and the human score.

    ``human`` is in the study's or data set's unit, oriented so that higher = better (DMOS data sets
    that are lower-is-better are negated by the caller, see ``DatasetIndex.human_scores``).
    ``human_ci`` (optional) is the score's 95% interval, used to find confident human orders.
    ``image`` is the source image (the bootstrap resamples source images); ``condition`` names the
    condition (e.g. "jpeg q=30" or a distorted file name). ``family`` is learned/classical/submitted.
    """

    metric_values: dict[str, float | None]
    human: float
    image: str
    condition: str
    codec: str | None = None
    family: str | None = None
    bpp: float | None = None
    distortion: str | None = None
    human_ci: tuple[float, float] | None = None
    result_id: int | None = None
    extra: dict = field(default_factory=dict, compare=False)


def bpp_bands(observations: Sequence[Observation]) -> list[str | None]:
    """Each observation's bitrate band: terciles of bpp over the observations that have a bpp.

    Cut points are the 1/3 and 2/3 quantiles (numpy's linear interpolation); a bpp equal to a cut
    point falls in the lower band. Observations without bpp get None.
    """
    bpps = np.array([o.bpp for o in observations if o.bpp is not None], dtype=np.float64)
    if bpps.size == 0:
        return [None] * len(observations)
    low_cut, high_cut = np.quantile(bpps, [1 / 3, 2 / 3])
    out: list[str | None] = []
    for o in observations:
        if o.bpp is None:
            out.append(None)
        elif o.bpp <= low_cut:
            out.append("low")
        elif o.bpp <= high_cut:
            out.append("mid")
        else:
            out.append("high")
    return out


def group_values(observations: Sequence[Observation], group: str) -> list[str | None]:
    """The breakdown key of each observation for ``group`` (one of ``GROUPS``); None = not in any group."""
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}; choose one of {', '.join(GROUPS)}")
    if group == "overall":
        return ["overall"] * len(observations)
    if group == "band":
        return bpp_bands(observations)
    return [getattr(o, group) for o in observations]
