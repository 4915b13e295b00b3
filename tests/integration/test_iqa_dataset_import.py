"""IQA data set import on real parts (PostgreSQL, Redis, Celery worker, uvicorn): the worker verifies and scores
a tiny data set in chunks, the correlation report follows; a data set whose image fails leaves nothing behind."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support import iqa_fixtures
from tests.support.analysis import dataset_zip, stack_headers, wait_for_dataset

pytestmark = pytest.mark.integration


def _post(production_stack, client, zip_path, layout, metrics="psnr,ssim,gmsd"):
    with open(zip_path, "rb") as handle:
        return client.post(
            "/api/v1/iqa-datasets",
            headers=stack_headers(production_stack),
            data={"name": f"tiny {layout}", "layout": layout, "metrics": metrics},
            files={"archive": (zip_path.name, handle.read(), "application/zip")},
        )


def test_dataset_import_is_scored_by_the_real_worker_and_correlated(production_stack, tmp_path):
    zip_path, fixture = dataset_zip(tmp_path, "kadid10k", references=3)
    with production_stack.client() as client:
        created = _post(production_stack, client, zip_path, "kadid10k")
        assert created.status_code == 202, created.text
        dataset = wait_for_dataset(client, created.json()["id"])
        assert dataset["status"] == "succeeded", (dataset, production_stack.worker_log.read_text()[-3000:])
        assert dataset["progress"] == {"phase": "done", "done": fixture.n_distorted, "total": fixture.n_distorted}
        table = list(
            csv.DictReader(io.StringIO(client.get(f"/api/v1/iqa-datasets/{dataset['id']}/scores?format=csv").text))
        )
        report = client.get(
            f"/api/v1/iqa-datasets/{dataset['id']}/correlation", params={"group": "distortion"}, timeout=600
        ).json()
        page = client.get(f"/analysis/iqa-datasets/{dataset['id']}")
    assert len(table) == fixture.n_distorted and all(r["psnr"] and r["ssim"] and r["gmsd"] for r in table)
    assert report["source"] == {"dataset_id": dataset["id"]} and report["n"] == fixture.n_distorted
    assert {r["metric"] for r in report["metrics"]} == {"psnr", "ssim", "gmsd"}
    assert all(r["srocc"] > 0.5 for r in report["metrics"]) and len(report["groups"]) == 2
    assert page.status_code == 200 and "Metric report card" in page.text


def test_a_data_set_whose_image_fails_ends_failed_and_leaves_nothing_behind(production_stack, tmp_path):
    folder = tmp_path / "files"
    iqa_fixtures.write_tid2013(folder)
    (folder / "distorted_images" / "i01_10_2.bmp").write_bytes(b"BM not a bitmap")
    zip_path = iqa_fixtures.zip_folder(folder, tmp_path / "broken.zip", top_level="tid2013")
    with production_stack.client() as client:
        created = _post(production_stack, client, zip_path, "tid2013", metrics="psnr")
        assert created.status_code == 202, created.text
        dataset = wait_for_dataset(client, created.json()["id"])
        rows = client.get(f"/api/v1/iqa-datasets/{dataset['id']}/scores").json()
    assert dataset["status"] == "failed" and "i01_10_2.bmp" in dataset["error"]
    assert rows == [] and not (production_stack.data_dir / "datasets" / str(dataset["id"])).exists()


def test_aic4_scores_only_import_on_postgres_needs_no_worker_and_correlates_per_codec(production_stack, tmp_path):
    import zipfile
    from pathlib import Path

    fixture = Path(__file__).resolve().parents[1] / "data" / "aic4"
    zip_path = tmp_path / "aic4.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for csv_path in fixture.glob("*.csv"):
            archive.write(csv_path, csv_path.name)
    with production_stack.client() as client:
        with open(zip_path, "rb") as handle:
            created = client.post(
                "/api/v1/iqa-datasets",
                headers=stack_headers(production_stack),
                data={"name": "AIC-4 subset", "layout": "aic4"},
                files={"archive": (zip_path.name, handle.read(), "application/zip")},
            )
        assert created.status_code == 202, created.text
        body = created.json()
        rows = client.get(f"/api/v1/iqa-datasets/{body['id']}/scores", params={"limit": 500}).json()
        report = client.get(
            f"/api/v1/iqa-datasets/{body['id']}/correlation", params={"group": "distortion"}, timeout=600
        ).json()
    assert body["scores_only"] is True and body["status"] == "succeeded" and body["n_distorted"] == 72
    assert len(rows) == 72 and all(r["scored"] and r["score_ci"] and r["metrics"]["CVVDP"] for r in rows)
    assert report["unit"] == "JND" and "JPEG-AI" in report["groups"] and len(report["groups"]) == 6
