"""AIC-3 response CSVs -> TripletAnswer (analysis.subjective.aic3_csv): the published SDR25 rows parse
with PTC-file-name labels shared by BTC and PTC, and bad input names its file, row and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.subjective.aic3_csv import Aic3FormatError, aic3_reference, read_aic3_answers

DATA = Path(__file__).resolve().parents[3] / "data" / "aic3"
BTC, PTC = DATA / "sdr25_BTC_sample.csv", DATA / "sdr25_PTC_sample.csv"
HEADER = (
    "worker,method,img_num,codec_left,codec_right,codec_pivot,dlevel_left,dlevel_right,dlevel_pivot,"
    "img_left,img_right,img_pivot,is_bias,is_trap,response"
)
TWO_DISTORTED = "7,PTC,9,6,6,0,2,6,0,PTC_00009_JPEG-AI_02.png,PTC_00009_JPEG-AI_06.png,PTC_00009_0ref_00.png,0,0,right"
ROW = "7,PTC,9,0,6,0,0,6,0,PTC_00009_0ref_00.png,PTC_00009_JPEG-AI_06.png,PTC_00009_0ref_00.png,0,0,right"


def test_sdr25_rows_parse_and_btc_and_ptc_share_labels():
    answers = read_aic3_answers([BTC, PTC])
    skipped = sum(line.rstrip().split(",")[20] == "skip" for f in (BTC, PTC) for line in f.read_text().splitlines()[1:])
    assert len(answers) == 56 - skipped
    btc = [a for a in answers if a.boosted]
    assert btc and all(a.left.startswith("PTC_") and a.right.startswith("PTC_") for a in answers)
    first = btc[0]  # BTC_00002_0ref_00.png vs BTC_00002_JPEG-AI_02.png, answered right
    assert (first.observer, first.group, first.left, first.right, first.choice) == (
        "BTC:157",
        "2",
        "PTC_00002_0ref_00.png",
        "PTC_00002_JPEG-AI_02.png",
        "right",
    )
    assert first.pivot == aic3_reference("2") and first.batch == "675458951692f78e5f7bf0c3"
    assert any(a.bias and a.left == a.right for a in answers)
    assert any(a.trap for a in answers) and any(a.choice == "not_sure" for a in answers)
    labels = {lab for a in answers for lab in (a.left, a.right) if a.boosted}
    assert labels & {lab for a in answers for lab in (a.left, a.right) if not a.boosted}


@pytest.mark.parametrize(
    ("text", "row", "column", "message"),
    [
        (HEADER.replace(",response", "") + "\n" + ROW.rsplit(",", 1)[0] + "\n", 1, "response", "missing"),
        (HEADER + "\n" + ROW.replace("right", "maybe") + "\n", 2, "response", "unknown response"),
        (HEADER + "\n" + ROW + "\n" + ROW.replace(",PTC,", ",XTC,") + "\n", 3, "method", "unknown method"),
        (HEADER + "\n" + ROW.replace(",0,0,right", ",2,0,right") + "\n", 2, "is_bias", "not 0 or 1"),
        (HEADER + "\n" + ROW.replace("7,PTC,9,", "7,PTC,x,") + "\n", 2, "img_num", "not an integer"),
        (HEADER + "\n" + ROW.replace("0,6,0,0,6,0,", "0,6,0,0,-6,0,") + "\n", 2, "dlevel_right", "out of range"),
        (HEADER + "\n" + ROW.replace("JPEG-AI_06", "JPEG-AI_07") + "\n", 2, "img_right", "not of dlevel 6"),
        (
            HEADER + "\n" + TWO_DISTORTED.replace(",0,0,right", ",0,1,right") + "\n",
            2,
            "is_trap",
            "pivot on exactly one side",
        ),
        (HEADER + "\n" + TWO_DISTORTED.replace(",0,0,right", ",1,0,right") + "\n", 2, "is_bias", "one condition twice"),
    ],
)
def test_bad_rows_name_file_row_and_column(text, row, column, message):
    with pytest.raises(Aic3FormatError, match=message) as caught:
        read_aic3_answers([("answers.csv", text.encode())])
    error = caught.value
    assert (error.file, error.row, error.column) == ("answers.csv", row, column)
    assert str(error).startswith(f"file answers.csv, row {row}, column {column}: ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        (b"\xff\xfe" + b"a" * 10, "not UTF-8"),
        ((HEADER + "\n").encode(), "no answer rows"),
    ],
)
def test_bad_files_are_named(content, message):
    with pytest.raises(Aic3FormatError, match=message) as caught:
        read_aic3_answers([BTC, ("upload.csv", content)])
    assert caught.value.file == "upload.csv"


def test_skip_rows_are_dropped():
    text = HEADER + "\n" + ROW + "\n" + ROW.replace("right", "skip") + "\n" + ROW.replace("right", "notsure") + "\n"
    answers = read_aic3_answers([("a.csv", text)])
    assert [a.choice for a in answers] == ["right", "not_sure"]
