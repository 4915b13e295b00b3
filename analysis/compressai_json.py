"""CompressAI's results JSON format: export licbench RD curves, import published curves.

The format (``compressai.utils.eval_model`` writes it, ``compressai.utils.plot`` reads it)::

    {"name": "bmshj2018-hyperprior", "description": "...",
     "results": {"bpp": [...], "psnr-rgb": [...], "ms-ssim-rgb": [...], ...}}

one file per codec, one list entry per rate point, all lists the same length. licbench's metric
``psnr`` is written as ``psnr-rgb`` and ``ms-ssim`` as ``ms-ssim-rgb`` (both are computed on RGB);
other metrics keep their licbench names. Reading maps the keys back.

``published_reference_curves()`` loads CompressAI's own Kodak figures for the six zoo models
(``analysis/reference_data/compressai_kodak/*.json``; each file cites its source in ``source``).
``published_kodak_anchors()`` loads the other Kodak curves CompressAI publishes, the field's anchors for
``benchmarks/kodak.py``: JPEG, WebP, BPG 4:4:4, AV1, VTM and the variable-rate (VBR) models
(``analysis/reference_data/compressai_kodak_anchors/*.json``, same format and ``source``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.rd import RDCurve

REFERENCE_DIR = Path(__file__).resolve().parent / "reference_data" / "compressai_kodak"
ANCHOR_DIR = Path(__file__).resolve().parent / "reference_data" / "compressai_kodak_anchors"

# licbench metric name -> CompressAI results key.
METRIC_KEYS = {"psnr": "psnr-rgb", "ms-ssim": "ms-ssim-rgb"}
# Keys that are measurements of the run rather than quality metrics.
NON_METRIC_KEYS = {"bpp", "encoding_time", "decoding_time", "rate_point"}


class ResultsFormatError(ValueError):
    """A file is not in CompressAI's results JSON format (one-line message)."""


@dataclass(frozen=True)
class ReferenceCurve:
    """An RD curve read from a CompressAI results file (e.g. published figures)."""

    name: str
    description: str
    bpp: list[float]
    metrics: dict[str, list[float]]  # licbench metric name -> values, same length as ``bpp``
    extra: dict[str, list[float]] = field(default_factory=dict)  # encoding_time, decoding_time, ...
    source: dict[str, Any] | None = None
    label: str = "published"

    def xy(self, metric: str) -> tuple[list[float], list[float]]:
        return list(self.bpp), list(self.metrics[metric])


def metric_key(metric: str) -> str:
    return METRIC_KEYS.get(metric, metric)


def metric_name(key: str) -> str:
    return {v: k for k, v in METRIC_KEYS.items()}.get(key, key)


def to_compressai_json(curve: RDCurve, description: str = "") -> dict[str, Any]:
    """One codec's curve in CompressAI's results format (points in rising rate-point order).

    A metric is exported only if every point has it (the format has no gaps). ``rate_point`` is added
    to ``results`` so the file says which setting gave each point; CompressAI's plot tool ignores it.
    """
    points = sorted(curve.points, key=lambda p: p.rate_point)
    results: dict[str, list[float]] = {"bpp": [p.bpp for p in points]}
    names = sorted({name for p in points for name in p.metrics}, key=lambda n: (n not in METRIC_KEYS, n))
    for name in names:
        if all(name in p.metrics for p in points):
            results[metric_key(name)] = [p.metrics[name] for p in points]
    results["rate_point"] = [p.rate_point for p in points]
    return {"name": curve.codec, "description": description, "results": results}


def _numbers(key: str, values: Any, where: str) -> list[float]:
    if not isinstance(values, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values
    ):
        raise ResultsFormatError(f"{where}: results[{key!r}] is not a list of finite numbers")
    return [float(v) for v in values]


def from_compressai_json(
    data: Mapping[str, Any], where: str = "results file", label: str = "published"
) -> ReferenceCurve:
    """Read one CompressAI results document (as parsed JSON) into a :class:`ReferenceCurve`."""
    if not isinstance(data, Mapping):
        raise ResultsFormatError(f"{where}: expected a JSON object")
    results = data.get("results", data)  # CompressAI's plot tool accepts a bare results object too
    if not isinstance(results, Mapping) or "bpp" not in results:
        raise ResultsFormatError(f"{where}: no results.bpp list")
    bpp = _numbers("bpp", results["bpp"], where)
    if not bpp:
        raise ResultsFormatError(f"{where}: results.bpp is empty")
    metrics: dict[str, list[float]] = {}
    extra: dict[str, list[float]] = {}
    for key, values in results.items():
        if key == "bpp":
            continue
        numbers = _numbers(key, values, where)
        if len(numbers) != len(bpp):
            raise ResultsFormatError(f"{where}: results[{key!r}] has {len(numbers)} values, bpp has {len(bpp)}")
        (extra if key in NON_METRIC_KEYS else metrics)[metric_name(key)] = numbers
    if not metrics:
        raise ResultsFormatError(f"{where}: no metric besides bpp")
    name = given if isinstance(given := data.get("name"), str) and given else Path(where).stem
    description = given if isinstance(given := data.get("description"), str) else ""
    source = data.get("source") if isinstance(data.get("source"), Mapping) else None
    return ReferenceCurve(name, description, bpp, metrics, extra, dict(source) if source else None, label)


def read_compressai_json(path: Path, label: str = "published") -> ReferenceCurve:
    """Read a CompressAI results file from disk."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsFormatError(f"{path.name}: cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ResultsFormatError(f"{path.name}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    return from_compressai_json(data, where=path.name, label=label)


def published_reference_curves() -> dict[str, ReferenceCurve]:
    """CompressAI's published Kodak results for the zoo models, by licbench codec name."""
    curves = [read_compressai_json(p) for p in sorted(REFERENCE_DIR.glob("*.json"))]
    return {c.name: c for c in curves}


def published_kodak_anchors() -> dict[str, ReferenceCurve]:
    """CompressAI's published Kodak curves of the classical codecs and the VBR models, by name (``JPEG``,
    ``WebP``, ``BPG 4:4:4``, ``AV1``, ``VTM``, ``bmshj2018-hyperprior-vbr``, ``mbt2018-mean-vbr``, ``mbt2018-vbr``)."""
    curves = [read_compressai_json(p) for p in sorted(ANCHOR_DIR.glob("*.json"))]
    return {c.name: c for c in curves}
