"""POST /api/v1/iqa-datasets over every published layout, bad archives, background verification and scoring."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support import iqa_fixtures
from tests.support.analysis import dataset_zip, post_dataset, run_dataset_in_process, stored_dataset_files

LAYOUTS = ["tid2013", "kadid10k", "csiq", "live", "clic2021-perceptual", "generic-csv"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_imports_and_is_scored_by_the_background_tasks(api, settings_env, tmp_path, layout):
    zip_path, fixture = dataset_zip(tmp_path, layout)
    created = post_dataset(api, zip_path, layout)
    assert created.status_code == 202, created.text
    body = created.json()
    assert set(body) >= {"id", "name", "layout", "status", "n_references", "n_distorted"}
    assert body["status"] == "queued" and body["layout"] == layout
    assert (body["n_references"], body["n_distorted"]) == (fixture.n_references, fixture.n_distorted)

    run_dataset_in_process(body["id"])
    detail = api.get(f"/api/v1/iqa-datasets/{body['id']}").json()
    assert detail["status"] == "succeeded", detail
    assert detail["progress"]["done"] == detail["progress"]["total"] > 0

    rows = api.get(f"/api/v1/iqa-datasets/{body['id']}/scores").json()
    assert rows and all(r["scored"] and r["metrics"]["psnr"] is not None for r in rows)
    if layout != "clic2021-perceptual":
        shipped = {r["path"]: r["score"] for r in rows}
        assert shipped == pytest.approx(fixture.scores)


def test_scores_csv_has_one_line_per_distorted_image_with_the_metric_columns(api, settings_env, tmp_path):
    zip_path, fixture = dataset_zip(tmp_path, "kadid10k")
    dataset_id = post_dataset(api, zip_path, "kadid10k").json()["id"]
    run_dataset_in_process(dataset_id)
    response = api.get(f"/api/v1/iqa-datasets/{dataset_id}/scores?format=csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert len(table) == fixture.n_distorted
    assert {"path", "reference", "dmos", "psnr", "gmsd"} <= set(table[0])
    assert all(float(r["psnr"]) > 10 for r in table)


def test_list_and_unknown_data_set(api, settings_env, tmp_path):
    zip_path, _ = dataset_zip(tmp_path, "generic-csv", top_level=None)
    created = post_dataset(api, zip_path, "generic-csv").json()
    listed = api.get("/api/v1/iqa-datasets")
    assert [d["id"] for d in listed.json()] == [created["id"]] and listed.headers["X-Total-Count"] == "1"
    assert api.get("/api/v1/iqa-datasets/999").status_code == 404


def _bad_zip(tmp_path, case: str):
    if case == "zip slip":
        return iqa_fixtures.zip_entries(tmp_path / "slip.zip", {"../evil.txt": b"x"}), "kadid10k"
    if case == "zip bomb":
        return iqa_fixtures.zip_bomb(tmp_path / "bomb.zip"), "kadid10k"
    if case == "symlink":
        return iqa_fixtures.zip_symlink(tmp_path / "link.zip"), "kadid10k"
    if case == "not a zip":
        path = tmp_path / "plain.zip"
        path.write_bytes(b"this is not a zip archive")
        return path, "kadid10k"
    folder = tmp_path / "files"
    if case == "missing distorted image":
        iqa_fixtures.write_kadid10k(folder)
        (folder / "images" / "I01_01_02.png").unlink()
        return iqa_fixtures.zip_folder(folder, tmp_path / "missing.zip"), "kadid10k"
    if case == "missing reference":
        iqa_fixtures.write_tid2013(folder)
        (folder / "reference_images" / "I02.BMP").unlink()
        return iqa_fixtures.zip_folder(folder, tmp_path / "noref.zip"), "tid2013"
    if case == "wrong columns":
        iqa_fixtures.write_kadid10k(folder)
        (folder / "dmos.csv").write_text("image,quality\nI01_01_01.png,3\n")
        return iqa_fixtures.zip_folder(folder, tmp_path / "cols.zip"), "kadid10k"
    if case == "non-numeric score":
        iqa_fixtures.write_generic_csv(folder)
        text = (folder / "scores.csv").read_text().splitlines()
        parts = text[1].split(",")
        parts[3] = "good"
        text[1] = ",".join(parts)
        (folder / "scores.csv").write_text("\n".join(text) + "\n")
        return iqa_fixtures.zip_folder(folder, tmp_path / "nan.zip"), "generic-csv"
    if case == "wrong layout":
        iqa_fixtures.write_kadid10k(folder)
        return iqa_fixtures.zip_folder(folder, tmp_path / "wrong.zip"), "tid2013"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "zip slip",
        "zip bomb",
        "symlink",
        "not a zip",
        "missing distorted image",
        "missing reference",
        "wrong columns",
        "non-numeric score",
        "wrong layout",
    ],
)
def test_bad_archives_get_a_4xx_and_store_nothing(api, settings_env, tmp_path, case):
    zip_path, layout = _bad_zip(tmp_path, case)
    response = post_dataset(api, zip_path, layout)
    assert 400 <= response.status_code < 500, response.text
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    assert api.get("/api/v1/iqa-datasets").json() == []
    assert stored_dataset_files(settings_env) == []


@pytest.mark.parametrize(
    "form, fragment",
    [
        ({"layout": "mnist"}, "layout"),
        ({"name": "  "}, "name"),
        ({"metrics": "psnr,no-such-metric"}, "no-such-metric"),
        ({"higher_is_better": "true"}, "generic-csv"),
    ],
)
def test_bad_form_fields_are_422_and_store_nothing(api, settings_env, tmp_path, form, fragment):
    zip_path, _ = dataset_zip(tmp_path, "kadid10k")
    fields = {"layout": "kadid10k", "name": "tiny", "metrics": "psnr", **form}
    response = post_dataset(api, zip_path, **fields)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["detail"]
    assert stored_dataset_files(settings_env) == []


def test_archive_over_max_dataset_bytes_is_413(api, settings_env, tmp_path, monkeypatch):
    from app.settings import get_settings

    zip_path, _ = dataset_zip(tmp_path, "kadid10k")
    monkeypatch.setattr(get_settings(), "max_dataset_bytes", zip_path.stat().st_size - 1)
    response = post_dataset(api, zip_path, "kadid10k")
    assert response.status_code == 413 and "MAX_DATASET_BYTES" in response.json()["detail"]
    assert api.get("/api/v1/iqa-datasets").json() == [] and stored_dataset_files(settings_env) == []


def test_an_image_that_does_not_decode_fails_the_data_set_in_the_background_and_removes_its_files(
    api, settings_env, tmp_path
):
    folder = tmp_path / "files"
    iqa_fixtures.write_kadid10k(folder)
    (folder / "images" / "I02_10_03.png").write_bytes(b"\x89PNG\r\n\x1a\n but not really")
    zip_path = iqa_fixtures.zip_folder(folder, tmp_path / "broken.zip")
    created = post_dataset(api, zip_path, "kadid10k")
    assert created.status_code == 202, created.text  # the request checks structure and score file only
    assert stored_dataset_files(settings_env)
    run_dataset_in_process(created.json()["id"])
    detail = api.get(f"/api/v1/iqa-datasets/{created.json()['id']}").json()
    assert detail["status"] == "failed" and "I02_10_03.png" in detail["error"]
    assert stored_dataset_files(settings_env) == []
    assert api.get(f"/api/v1/iqa-datasets/{created.json()['id']}/scores").json() == []
    assert api.get(f"/api/v1/iqa-datasets/{created.json()['id']}/correlation").status_code == 409


def test_readmes_and_licences_beside_the_layout_are_ignored(api, settings_env, tmp_path):
    folder = tmp_path / "files"
    fixture = iqa_fixtures.write_tid2013(folder)
    (folder / "readme.txt").write_text("TID2013 ...")
    (folder / "LICENSE").write_text("licence")
    zip_path = iqa_fixtures.zip_folder(folder, tmp_path / "tid.zip", top_level="tid2013")
    created = post_dataset(api, zip_path, "tid2013")
    assert created.status_code == 202 and created.json()["n_distorted"] == fixture.n_distorted


def test_dataset_image_serves_only_named_files_as_png(api, settings_env, tmp_path):
    zip_path, _ = dataset_zip(tmp_path, "tid2013")
    dataset_id = post_dataset(api, zip_path, "tid2013").json()["id"]
    rows = api.get(f"/api/v1/iqa-datasets/{dataset_id}/scores").json()
    image = api.get(f"/api/v1/iqa-datasets/{dataset_id}/image", params={"path": rows[0]["path"]})
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert (
        api.get(f"/api/v1/iqa-datasets/{dataset_id}/image", params={"path": "../../licbench.sqlite"}).status_code == 404
    )
    assert api.get(f"/api/v1/iqa-datasets/{dataset_id}/image", params={"path": "mos_with_names.txt"}).status_code == 404


def test_data_set_pages_list_and_report(api, settings_env, tmp_path):
    zip_path, _ = dataset_zip(tmp_path, "kadid10k")
    dataset_id = post_dataset(api, zip_path, "kadid10k", name="KADID tiny").json()["id"]
    listing = api.get("/analysis/iqa-datasets")
    assert listing.status_code == 200 and "KADID tiny" in listing.text and 'id="dataset-form"' in listing.text
    report = api.get(f"/analysis/iqa-datasets/{dataset_id}")
    assert report.status_code == 200 and f'data-api="/api/v1/iqa-datasets/{dataset_id}"' in report.text
    assert api.get("/analysis/iqa-datasets/999").status_code == 404


def test_importing_needs_a_user(api, settings_env, tmp_path):
    from tests.support.accounts import ANONYMOUS

    zip_path, _ = dataset_zip(tmp_path, "kadid10k")
    with open(zip_path, "rb") as handle:
        response = api.post(
            "/api/v1/iqa-datasets",
            headers=ANONYMOUS,
            data={"name": "x", "layout": "kadid10k"},
            files={"archive": ("k.zip", handle.read(), "application/zip")},
        )
    assert response.status_code == 401
    assert api.get("/api/v1/iqa-datasets").json() == [] and stored_dataset_files(settings_env) == []
