"""The aic4 layout: JPEG AIC-4's JND scores and shipped metric values (scores only), and its bad inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis.iqa_datasets import DatasetError, get_layout, is_scores_only, layout_names, read_dataset
from analysis.iqa_datasets.aic4 import JND_FILE, METRIC_FILE, METRICS

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "aic4"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "aic4"
    shutil.copytree(FIXTURE, folder, ignore=shutil.ignore_patterns("*.md"))
    return folder


def _edit(path: Path, line: int, column: str, value: str) -> None:
    """Set ``column`` of data line ``line`` (the header is line 1) to ``value``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def test_the_fixture_reads_as_scores_only_jnd_items_with_codec_level_and_shipped_metrics():
    assert "aic4" in layout_names() and is_scores_only("aic4") and not is_scores_only("kadid10k")
    index = read_dataset(FIXTURE, get_layout("aic4"))
    assert index.scores_only and index.unit == "JND" and not index.higher_is_better
    assert (index.n_references, index.n_distorted) == (3, 72)
    assert index.metric_names == list(METRICS) and len(METRICS) == 9
    first = index.distorted[0]
    assert (first.path, first.reference, first.distortion, first.level) == (
        "PTC_00002_AVIF_01.png",
        "PTC_00002_0ref_00.png",
        "AVIF",
        1,
    )
    assert first.score == pytest.approx(0.12031473) and first.score_ci == pytest.approx((0.09630131, 0.145992485))
    assert first.metric_values["PSNR-Y"] == pytest.approx(47.323361)
    assert first.metric_values["CVVDP"] == pytest.approx(9.8821)
    assert {d.distortion for d in index.distorted} == {"AVIF", "JPEG-1", "JPEG-2000", "JPEG-XL", "VVC", "JPEG-AI"}
    assert index.human_scores()[0] == pytest.approx(-0.12031473)  # human quality = -JND


@pytest.mark.parametrize(
    ("file", "line", "column", "value", "expected"),
    [
        (JND_FILE, 3, "distortion", "abc", f"{JND_FILE} line 3, column distortion: 'abc' is not a number"),
        (JND_FILE, 5, "CI_max", "nan", f"{JND_FILE} line 5, column CI_max: 'nan' is not finite"),
        (JND_FILE, 4, "dlevel", "9", f"{JND_FILE} line 4, column dlevel"),
        (JND_FILE, 2, "img_distorted", "image.png", f"{JND_FILE} line 2, column img_distorted"),
        (METRIC_FILE, 7, "SSIMULACRA2", "", f"{METRIC_FILE} line 7, column SSIMULACRA2: '' is not a number"),
        (METRIC_FILE, 2, "distortion", "3.5", f"{METRIC_FILE} line 2, column distortion"),
    ],
)
def test_a_bad_cell_names_the_file_line_and_column(tmp_path, file, line, column, value, expected):
    folder = _copy(tmp_path)
    _edit(folder / file, line, column, value)
    with pytest.raises(DatasetError) as raised:
        read_dataset(folder, get_layout("aic4"))
    assert str(raised.value).startswith(expected)


def test_a_missing_column_an_empty_file_and_a_missing_file_are_named(tmp_path):
    folder = _copy(tmp_path)
    text = (folder / METRIC_FILE).read_text(encoding="utf-8").replace(",CVVDP,", ",CVVDP_renamed,", 1)
    (folder / METRIC_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError, match=f"^{METRIC_FILE} lacks column\\(s\\) CVVDP"):
        read_dataset(folder, get_layout("aic4"))
    (folder / JND_FILE).write_bytes(b"")
    with pytest.raises(DatasetError, match=f"^{JND_FILE} is empty"):
        read_dataset(folder, get_layout("aic4"))
    (folder / JND_FILE).unlink()
    with pytest.raises(DatasetError, match=f"no aic4 layout found: expected {JND_FILE}"):
        read_dataset(folder, get_layout("aic4"))


def test_the_two_files_must_name_the_same_items(tmp_path):
    folder = _copy(tmp_path)
    lines = (folder / METRIC_FILE).read_text(encoding="utf-8").splitlines()
    (folder / METRIC_FILE).write_text("\r\n".join(lines[:-1]) + "\r\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=f"^{METRIC_FILE} lacks 1 item"):
        read_dataset(folder, get_layout("aic4"))
