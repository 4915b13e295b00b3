"""layout=aic4 end to end in-process: a scores-only data set (no images), its correlation per codec, bad zips."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.support.analysis import stored_dataset_files

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "aic4"
JND_FILE, METRIC_FILE = "JPEG_AIC_reconstructed_jnd_scores.csv", "JPEG-AIC_metric_scores.csv"


def _zip(tmp_path: Path, members: dict[str, bytes] | None = None) -> Path:
    members = members if members is not None else {p.name: p.read_bytes() for p in FIXTURE.glob("*.csv")}
    path = tmp_path / "aic4.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _post(api, zip_path: Path, **form):
    with open(zip_path, "rb") as handle:
        return api.post(
            "/api/v1/iqa-datasets",
            data={"name": "AIC-4", "layout": "aic4", **form},
            files={"archive": (zip_path.name, handle.read(), "application/zip")},
        )


def test_upload_is_scores_only_and_correlates_per_codec_with_the_jpeg_ai_group(
    api, settings_env, tmp_path, monkeypatch
):
    from app.settings import get_settings

    monkeypatch.setenv("CORRELATION_BOOTSTRAP", "50")  # intervals exist; their precision is not under test
    get_settings.cache_clear()
    created = _post(api, _zip(tmp_path))
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["scores_only"] is True and body["status"] == "succeeded" and "no images" in body["message"]
    assert (body["n_references"], body["n_distorted"]) == (3, 72)

    (listed,) = api.get("/api/v1/iqa-datasets").json()
    assert listed["scores_only"] is True and listed["unit"] == "JND" and listed["higher_is_better"] is False
    assert "PSNR-Y" in listed["metrics"] and "CVVDP" in listed["metrics"] and len(listed["metrics"]) == 9

    rows = api.get(f"/api/v1/iqa-datasets/{body['id']}/scores").json()
    first = rows[0]
    assert first["distortion"] == "AVIF" and first["level"] == 1 and first["human"] == pytest.approx(-first["score"])
    assert first["score_ci"] == pytest.approx([0.09630131, 0.145992485])
    assert first["metrics"]["PSNR-Y"] == pytest.approx(47.323361)

    overall = api.get(f"/api/v1/iqa-datasets/{body['id']}/correlation")
    assert overall.status_code == 200, overall.text
    report = overall.json()
    assert report["unit"] == "JND" and report["n"] == 72 and len(report["metrics"]) == 9
    assert all(r["srocc"] > 0.5 and r["srocc_ci"] is not None for r in report["metrics"])
    assert report["comparisons"] and all(c["p_williams"] is not None for c in report["comparisons"])

    by_codec = api.get(f"/api/v1/iqa-datasets/{body['id']}/correlation?group=distortion").json()
    assert set(by_codec["groups"]) == {"AVIF", "JPEG-1", "JPEG-2000", "JPEG-XL", "VVC", "JPEG-AI"}
    assert all(r["n"] == 12 for r in by_codec["groups"]["JPEG-AI"])
    assert by_codec["group_comparisons"]["JPEG-AI"][0]["p_williams"] is not None
    by_family = api.get(f"/api/v1/iqa-datasets/{body['id']}/correlation?group=family").json()
    assert set(by_family["groups"]) == {"classical", "learned"}

    card = api.get(f"/api/v1/iqa-datasets/{body['id']}/report").json()
    assert card["points"][0]["image_url"] is None and card["points"][0]["human_ci"] is not None
    assert {b["family"] for b in card["metrics"][0]["family_bias"]} == {"classical", "learned"}
    assert api.get(f"/api/v1/iqa-datasets/{body['id']}/image", params={"path": first["path"]}).status_code == 404
    assert api.get(f"/analysis/iqa-datasets/{body['id']}").status_code == 200


BAD_ZIPS = [
    ({JND_FILE: (FIXTURE / JND_FILE).read_bytes()}, f"expected {JND_FILE}, {METRIC_FILE}"),
    ({JND_FILE: b"", METRIC_FILE: (FIXTURE / METRIC_FILE).read_bytes()}, f"{JND_FILE} is empty"),
    (
        {
            JND_FILE: (FIXTURE / JND_FILE).read_bytes().replace(b"1.86760741", b"big", 1),
            METRIC_FILE: (FIXTURE / METRIC_FILE).read_bytes(),
        },
        f"{JND_FILE} line 3, column distortion: 'big'",
    ),
    (
        {
            JND_FILE: (FIXTURE / JND_FILE).read_bytes(),
            METRIC_FILE: (FIXTURE / METRIC_FILE).read_bytes().replace(b",IW-SSIM,", b",IWSSIM,", 1),
        },
        f"{METRIC_FILE} lacks column(s) IW-SSIM",
    ),
]


def test_bad_zips_and_metrics_are_4xx_naming_file_row_and_column_and_store_nothing(api, settings_env, tmp_path):
    for number, (members, expected) in enumerate(BAD_ZIPS):
        folder = tmp_path / str(number)
        folder.mkdir()
        response = _post(api, _zip(folder, members))
        assert response.status_code == 422, response.text
        assert expected in response.json()["detail"]
    response = _post(api, _zip(tmp_path), metrics="psnr")
    assert response.status_code == 422 and "ships its own metric values" in response.json()["detail"]
    assert api.get("/api/v1/iqa-datasets").json() == [] and stored_dataset_files(settings_env) == []
