"""JPEG AIC-4 example data set (jpeg-aic/JPEG-AIC-4-datasets): human JND scores and 9 metrics, no images.

Two CSVs as the repository ships them (README there; Jenadeleh et al. 2025, arXiv 2504.06301;
Testolina et al. 2024, arXiv 2410.09501):

- ``JPEG_AIC_reconstructed_jnd_scores.csv``: ``img_num, codec, dlevel, img_source, img_distorted,
  distortion, CI_min, CI_max``. ``distortion`` is the JND scale value reconstructed from AIC-3 triplet
  comparisons (0 = the source, higher = more visible distortion), with its 95% interval.
- ``JPEG-AIC_metric_scores.csv``: ``img_distorted, img_num, codec, dlevel, distortion`` and 9 metrics'
  raw scores (plus ``<metric> mapped``, the same scores mapped to JND by f(x) = a min(0, b - x); not read).

Scores only: the images are not in the repository, so nothing is scored here; each item carries the
metric values the CSV ships. The human score is the JND (lower is better, so the human quality used for
correlation is -JND); the distortion type is the codec named in ``img_distorted``
(``PTC_<img_num:05>_<codec>_<dlevel:02>.png``: AVIF, JPEG-1, JPEG-2000, JPEG-XL, VVC, JPEG-AI), the
level is ``dlevel``. The two files must name the same items with the same JND.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from analysis.iqa_datasets.base import DatasetError, DatasetIndex, DistortedImage, FileTable, read_csv_rows

JND_FILE = "JPEG_AIC_reconstructed_jnd_scores.csv"
METRIC_FILE = "JPEG-AIC_metric_scores.csv"
JND_COLUMNS = ("img_num", "codec", "dlevel", "img_source", "img_distorted", "distortion", "CI_min", "CI_max")
METRIC_KEYS = ("img_distorted", "img_num", "codec", "dlevel", "distortion")
# The raw metric columns and whether a higher value means better quality (checked on the published
# data: each correlates negatively with the JND). PSNR-Y (dB), SSIM, MS-SSIM, IW-SSIM (similarity, 1 =
# identical), VMAF-neg (0-100), SSIMULACRA2 (100 = identical), HDR-VDP-2 Q and HDR-VDP-3 Q (quality
# predictions, 10 = identical for HDR-VDP-3) and CVVDP (ColorVideoVDP, JOD, 10 = identical) are all
# quality scores, so none is negated.
METRICS: dict[str, bool] = {
    "PSNR-Y": True,
    "SSIM": True,
    "MS-SSIM": True,
    "IW-SSIM": True,
    "VMAF-neg": True,
    "SSIMULACRA2": True,
    "HDR-VDP-2 Q": True,
    "HDR-VDP-3 Q": True,
    "CVVDP": True,
}
LEARNED_CODECS = frozenset({"JPEG-AI"})
JND_TOLERANCE = 1e-6  # the metric file repeats the JND with more digits
_NAME = re.compile(r"^PTC_(\d+)_([A-Za-z0-9.+-]+)_(\d+)\.png$", re.IGNORECASE)


def _number(text: str, where: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DatasetError(f"{where}, column {column}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise DatasetError(f"{where}, column {column}: {text!r} is not finite")
    return value


def _integer(text: str, where: str, column: str) -> int:
    value = _number(text, where, column)
    if value != int(value):
        raise DatasetError(f"{where}, column {column}: {text!r} is not a whole number")
    return int(value)


def _rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    if path.stat().st_size == 0:
        raise DatasetError(f"{path.name} is empty")
    try:
        return read_csv_rows(path, required)
    except DatasetError as exc:
        message = str(exc)
        raise DatasetError(message if message.startswith(path.name) else f"{path.name}: {message}") from None


def codec_family(codec: str | None) -> str | None:
    """``learned`` for JPEG AI, ``classical`` for the other codecs of the set (None without a codec)."""
    if codec is None:
        return None
    return "learned" if codec in LEARNED_CODECS else "classical"


class Aic4Layout:
    name = "aic4"
    description = (
        f"JPEG AIC-4 scores only: {JND_FILE} (JND, 95% intervals) and {METRIC_FILE} (9 metrics' raw scores); no images"
    )
    markers = (JND_FILE, METRIC_FILE)
    scores_only = True
    family_of = staticmethod(codec_family)

    def read(self, root: Path) -> DatasetIndex:
        """Parse both CSVs: every item once in each, the same JND in both, every value a finite number."""
        files = FileTable(root)
        jnd_path = root / files.require(JND_FILE, "the aic4 layout")
        metric_path = root / files.require(METRIC_FILE, "the aic4 layout")
        items: dict[str, DistortedImage] = {}
        references: dict[str, None] = {}
        for line, row in enumerate(_rows(jnd_path, JND_COLUMNS), 2):
            where = f"{JND_FILE} line {line}"
            name = row["img_distorted"]
            codec, level = self._parse_name(name, row, where)
            jnd = _number(row["distortion"], where, "distortion")
            low, high = _number(row["CI_min"], where, "CI_min"), _number(row["CI_max"], where, "CI_max")
            if not low <= jnd <= high:
                raise DatasetError(
                    f"{where}, columns CI_min/CI_max: the interval [{low}, {high}] does not hold the JND {jnd}"
                )
            if name in items:
                raise DatasetError(f"{where}, column img_distorted: {name} occurs twice")
            if not row["img_source"]:
                raise DatasetError(f"{where}, column img_source: empty")
            references.setdefault(row["img_source"])
            items[name] = DistortedImage(name, row["img_source"], jnd, codec, level, score_ci=(low, high))
        values: dict[str, dict[str, float]] = {}
        for line, row in enumerate(_rows(metric_path, METRIC_KEYS + tuple(METRICS)), 2):
            where = f"{METRIC_FILE} line {line}"
            name = row["img_distorted"]
            if name not in items:
                raise DatasetError(f"{where}, column img_distorted: {name!r} is not in {JND_FILE}")
            if name in values:
                raise DatasetError(f"{where}, column img_distorted: {name} occurs twice")
            jnd = _number(row["distortion"], where, "distortion")
            if abs(jnd - items[name].score) > JND_TOLERANCE:
                raise DatasetError(f"{where}, column distortion: {jnd} differs from {items[name].score} in {JND_FILE}")
            values[name] = {
                metric: (1.0 if higher else -1.0) * _number(row[metric], where, metric)
                for metric, higher in METRICS.items()
            }
        missing = [n for n in items if n not in values]
        if missing:
            raise DatasetError(f"{METRIC_FILE} lacks {len(missing)} item(s) of {JND_FILE}, e.g. {missing[0]}")
        distorted = [
            DistortedImage(
                d.path, d.reference, d.score, d.distortion, d.level, score_ci=d.score_ci, metric_values=values[d.path]
            )
            for d in items.values()
        ]
        return DatasetIndex(
            self.name,
            root,
            list(references),
            distorted,
            higher_is_better=False,
            unit="JND",
            scores_only=True,
            metric_names=list(METRICS),
        )

    @staticmethod
    def _parse_name(name: str, row: dict[str, str], where: str) -> tuple[str, int]:
        """The codec and level from ``PTC_<img_num>_<codec>_<dlevel>.png``, checked against the row's columns."""
        match = _NAME.match(name)
        if match is None:
            raise DatasetError(f"{where}, column img_distorted: {name!r} is not PTC_<img_num>_<codec>_<dlevel>.png")
        number, codec, level = int(match.group(1)), match.group(2), int(match.group(3))
        if _integer(row["img_num"], where, "img_num") != number:
            raise DatasetError(f"{where}, column img_num: {row['img_num']} but the file name {name} says {number}")
        if _integer(row["dlevel"], where, "dlevel") != level:
            raise DatasetError(f"{where}, column dlevel: {row['dlevel']} but the file name {name} says {level}")
        _integer(row["codec"], where, "codec")
        return codec, level
