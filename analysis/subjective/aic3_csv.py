"""Triplet answers from the response CSVs that the JPEG AIC repositories publish (AIC-3 layout).

Layout (``jpeg-aic/dataset-JPEG-AI-SDR25``, ``jpeg-aic/dataset-BTC-PTC-24``): one row per answer with
``worker, method`` (``BTC`` boosted / ``PTC`` plain), ``img_num``, ``codec_*`` / ``dlevel_*`` /
``img_*`` for ``left``, ``right`` and ``pivot``, ``is_bias``, ``is_trap`` and ``response``
(``left`` / ``right`` / ``notsure``; ``skip`` rows carry no answer and are dropped). Extra columns are
ignored; ``assignment``, when present, is the screening batch.

A condition's label is its PTC file name ``PTC_<img_num:05>_<codec>_<dlevel:02>.png`` (as AIC-4's
``img_distorted`` writes it) whichever method's row names it, so BTC and PTC answers about one stimulus
meet; the group is ``img_num``; the reference is codec 0 at level 0 (``PTC_<img_num:05>_0ref_00.png``).
The observer is ``<method>:<worker>``: each experiment numbers its workers from 1 (SDR25's 459
participants are its BTC file's 386 and its PTC file's 73, whose ids overlap but whose user data differ).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from analysis.subjective.response_csv import ResponseFormatError, csv_records, decode_text
from analysis.subjective.triplet import TripletAnswer

REQUIRED_COLUMNS = (
    "worker",
    "method",
    "img_num",
    "codec_left",
    "codec_right",
    "codec_pivot",
    "dlevel_left",
    "dlevel_right",
    "dlevel_pivot",
    "img_left",
    "img_right",
    "img_pivot",
    "is_bias",
    "is_trap",
    "response",
)
RESPONSES = {"left": "left", "right": "right", "notsure": "not_sure", "not sure": "not_sure", "not_sure": "not_sure"}
SKIP = "skip"
METHODS = {"BTC": True, "PTC": False}
_IMAGE = re.compile(r"^(BTC|PTC)_(\d+)_(.+)_(\d+)\.png$")
_FLAGS = {"0": False, "1": True, "false": False, "true": True}

Source = str | os.PathLike[str] | tuple[str, bytes | str]


class Aic3FormatError(ResponseFormatError):
    """Bad AIC-3 input, naming the file, the row (1 = the header line) and the column where known."""


def aic3_label(img_num: int, codec: str, dlevel: int) -> str:
    """The condition label: AIC-4's PTC file name, e.g. ``PTC_00009_JPEG-AI_06.png``."""
    return f"PTC_{img_num:05d}_{codec}_{dlevel:02d}.png"


def aic3_reference(group: str) -> str:
    """The reference label of a group (codec 0 at level 0)."""
    return aic3_label(int(group), "0ref", 0)


def aic3_codec(label: str) -> str:
    """The codec name inside a label (``PTC_00009_JPEG-AI_06.png`` -> ``JPEG-AI``)."""
    match = _IMAGE.match(label)
    return match.group(3) if match else ""


def _text(name: str, content: bytes | str) -> str:
    return content if isinstance(content, str) else decode_text(name, content, Aic3FormatError)


def _load(source: Source) -> tuple[str, str]:
    if isinstance(source, tuple):
        name, content = source
        return name, _text(name, content)
    path = Path(source)
    try:
        return path.name, _text(path.name, path.read_bytes())
    except OSError as exc:
        raise Aic3FormatError(path.name, f"cannot be read ({exc.strerror})") from None


def _int(name: str, row: int, column: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise Aic3FormatError(name, f"{value!r} is not an integer", row=row, column=column) from None


def _side(name: str, row: int, record: dict[str, str], side: str, img_num: int, method: str) -> str:
    column = f"img_{side}"
    image = record[column].strip()
    match = _IMAGE.match(image)
    if not match:
        raise Aic3FormatError(
            name, f"{image!r} is not an image name like PTC_00009_JPEG-AI_06.png", row=row, column=column
        )
    prefix, num, codec, level = match.groups()
    if prefix != method:
        raise Aic3FormatError(name, f"{image!r} does not belong to method {method}", row=row, column=column)
    if int(num) != img_num:
        raise Aic3FormatError(name, f"{image!r} is not of img_num {img_num}", row=row, column=column)
    codec_id = _int(name, row, f"codec_{side}", record[f"codec_{side}"])
    dlevel = _int(name, row, f"dlevel_{side}", record[f"dlevel_{side}"])
    if codec_id < 0:
        raise Aic3FormatError(name, f"{codec_id} is out of range (>= 0)", row=row, column=f"codec_{side}")
    if dlevel < 0:
        raise Aic3FormatError(name, f"{dlevel} is out of range (>= 0)", row=row, column=f"dlevel_{side}")
    if int(level) != dlevel:
        raise Aic3FormatError(name, f"{image!r} is not of dlevel {dlevel}", row=row, column=column)
    if (codec_id == 0) != (codec == "0ref"):
        raise Aic3FormatError(name, f"{image!r} does not match codec {codec_id}", row=row, column=column)
    return aic3_label(img_num, codec, dlevel)


def read_aic3_answers(files: Sequence[Source]) -> list[TripletAnswer]:
    """Every answered triplet of the given AIC-3 response CSVs (paths, or ``(name, bytes)`` pairs).

    ``skip`` rows are dropped. Raises ``Aic3FormatError`` naming the file, row and column of the first
    bad value: an empty or binary file, a missing column, an unknown method or response, a flag
    other than 0/1, an integer out of range, or an image name that disagrees with its columns.
    """
    if not files:
        raise ValueError("no AIC-3 response files given")
    answers: list[TripletAnswer] = []
    for source in files:
        name, text = _load(source)
        _, records = csv_records(name, text, REQUIRED_COLUMNS, Aic3FormatError)
        rows = 0
        for row, record in records:
            rows += 1
            response = record["response"].strip().lower()
            if response == SKIP:
                continue
            if response not in RESPONSES:
                raise Aic3FormatError(
                    name,
                    f"unknown response {record['response']!r} (left, right, notsure or skip)",
                    row=row,
                    column="response",
                )
            method = record["method"].strip().upper()
            if method not in METHODS:
                raise Aic3FormatError(
                    name, f"unknown method {record['method']!r} (BTC or PTC)", row=row, column="method"
                )
            worker = record["worker"].strip()
            if not worker:
                raise Aic3FormatError(name, "is empty", row=row, column="worker")
            img_num = _int(name, row, "img_num", record["img_num"])
            if img_num < 0:
                raise Aic3FormatError(name, f"{img_num} is out of range (>= 0)", row=row, column="img_num")
            flags = {}
            for column in ("is_bias", "is_trap"):
                value = record[column].strip().lower()
                if value not in _FLAGS:
                    raise Aic3FormatError(name, f"{record[column]!r} is not 0 or 1", row=row, column=column)
                flags[column] = _FLAGS[value]
            labels = {side: _side(name, row, record, side, img_num, method) for side in ("pivot", "left", "right")}
            if flags["is_bias"] and labels["left"] != labels["right"]:
                raise Aic3FormatError(name, "a bias triplet must show one condition twice", row=row, column="is_bias")
            if flags["is_trap"] and (labels["left"] == labels["pivot"]) == (labels["right"] == labels["pivot"]):
                raise Aic3FormatError(
                    name, "a trap triplet must show the pivot on exactly one side", row=row, column="is_trap"
                )
            answers.append(
                TripletAnswer(
                    observer=f"{method}:{worker}",
                    group=str(img_num),
                    pivot=labels["pivot"],
                    left=labels["left"],
                    right=labels["right"],
                    choice=RESPONSES[response],
                    boosted=METHODS[method],
                    trap=flags["is_trap"],
                    bias=flags["is_bias"],
                    batch=(record.get("assignment") or "").strip(),
                )
            )
        if rows == 0:
            raise Aic3FormatError(name, "has a header but no answer rows", row=2)
    return answers
