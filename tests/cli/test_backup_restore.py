"""``licbench backup``, ``restore`` and ``verify`` on the embedded SQLite set-up (issue 32): a restore answers like
the original, and a truncated backup, a changed file, a newer schema or a non-empty target change nothing."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from app.cli import main
from tests.support.analysis import dataset_zip, post_dataset, run_dataset_in_process
from tests.support.studies import run_small_job_in_process


def _use_data_dir(monkeypatch, data_dir: Path) -> None:
    from app.settings import get_settings

    monkeypatch.setenv("DATA_DIR", str(data_dir))
    get_settings.cache_clear()


def snapshot_answers(api, job_id: int, study: dict, dataset_id: int) -> dict:
    """The API's answers about everything the installation holds (what a restore must reproduce)."""
    study_id = study["id"]
    urls = [
        f"/api/v1/jobs/{job_id}",
        f"/api/v1/jobs/{job_id}/results?limit=1000",
        f"/api/v1/jobs/{job_id}/rd",
        "/api/v1/image-sets",
        f"/api/v1/studies/{study_id}",
        f"/api/v1/studies/{study_id}/responses",
        f"/api/v1/iqa-datasets/{dataset_id}",
        f"/api/v1/iqa-datasets/{dataset_id}/scores",
        "/api/v1/jobs",
    ]
    answers = {}
    for url in urls:
        response = api.get(url)
        assert response.status_code == 200, (url, response.text)
        answers[url] = response.content if "responses" in url else response.json()
    results = answers[f"/api/v1/jobs/{job_id}/results?limit=1000"]
    for result in results[:3]:
        answers[f"reconstruction {result['id']}"] = api.get(f"/api/v1/results/{result['id']}/reconstruction").content
    conditions = api.get(f"/api/v1/studies/{study_id}/conditions/{study['conditions'][0]['id']}/image")
    answers["condition image"] = conditions.content
    return answers


@pytest.fixture
def installation(api, settings_env, tmp_path, monkeypatch):
    """A finished JPEG job, a study with one answer, a scored data set, and a file no row names."""
    monkeypatch.setenv("STUDY_BOOTSTRAP", "20")
    job = run_small_job_in_process(api, sizes=((48, 56),), rate_points=(20, 80))
    study = api.post(
        "/api/v1/studies",
        json={
            "name": "s",
            "method": "pairwise",
            "job_id": job["id"],
            "trials_per_session": 4,
            "sampling": "balanced",
            "crop": 32,
        },
    ).json()
    session = api.post(f"/api/v1/studies/{study['id']}/sessions", json={"token": study["token"]}).json()["id"]
    base = f"/api/v1/studies/{study['id']}/sessions/{session}"
    trial = api.get(f"{base}/next").json()
    assert api.post(f"{base}/responses", json={"trial_id": trial["trial_id"], "choice": "a"}).status_code == 201
    zip_path, _ = dataset_zip(tmp_path, "tid2013", references=1, kinds=(1,), levels=(1, 2))
    dataset = post_dataset(api, zip_path, "tid2013", metrics="psnr").json()
    run_dataset_in_process(dataset["id"])
    study = api.get(f"/api/v1/studies/{study['id']}").json()
    return {"job": job, "study": study, "dataset": dataset["id"], "data_dir": settings_env}


def test_backup_restores_identical_answers_and_verify_passes(api, installation, tmp_path, monkeypatch, capsys):
    before = snapshot_answers(api, installation["job"]["id"], installation["study"], installation["dataset"])
    stray = installation["data_dir"] / "images" / ".tmp-killed-upload"
    stray.write_bytes(b"half an upload")
    os.utime(stray, (time.time() - 7200, time.time() - 7200))

    assert main(["backup", str(tmp_path / "bk")]) == 0
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["schema_revision"] and "images/.tmp-killed-upload" not in manifest["files"]
    assert all((tmp_path / "bk" / "files" / key).is_file() for key in manifest["files"])
    assert any(key.startswith("datasets/") for key in manifest["files"])

    target = tmp_path / "restored"
    _use_data_dir(monkeypatch, target)
    assert main(["restore", str(tmp_path / "bk")]) == 0
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app()) as restored:
        restored.headers.update(api.headers)
        after = snapshot_answers(restored, installation["job"]["id"], installation["study"], installation["dataset"])
    assert after == before
    capsys.readouterr()
    assert main(["verify"]) == 0
    assert "0 missing, 0 changed, 0 unreferenced" in capsys.readouterr().out

    # back on the original: verify lists the stray file, --prune removes it, a changed file fails
    _use_data_dir(monkeypatch, installation["data_dir"])
    assert main(["verify"]) == 0
    assert "unreferenced: images/.tmp-killed-upload" in capsys.readouterr().out
    assert main(["verify", "--prune"]) == 0 and not stray.exists()
    reconstruction = next((installation["data_dir"] / "reconstructions").rglob("*.png"))
    reconstruction.write_bytes(reconstruction.read_bytes() + b"x")
    capsys.readouterr()
    assert main(["verify"]) == 1
    assert f"changed: {reconstruction.relative_to(installation['data_dir']).as_posix()}" in capsys.readouterr().out
    reconstruction.unlink()
    assert main(["verify"]) == 1
    assert "missing: reconstructions/" in capsys.readouterr().out


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_bad_backups_and_non_empty_targets_change_nothing(api, installation, tmp_path, monkeypatch, capsys):
    good = tmp_path / "bk"
    assert main(["backup", str(good)]) == 0
    assert main(["backup", str(good)]) == 2  # never into an existing backup
    assert "already exists" in capsys.readouterr().err

    target = tmp_path / "target"
    _use_data_dir(monkeypatch, target)
    assert main(["restore", str(good)]) == 0
    capsys.readouterr()
    restored = _tree(target)

    def refused(backup: Path, *expected: str, replace: bool = True) -> None:
        code = main(["restore", str(backup)] + (["--replace"] if replace else []))
        err = capsys.readouterr().err
        assert code == 2 and all(text in err for text in expected) and "nothing was changed" in err, err
        assert _tree(target) == restored

    truncated = tmp_path / "truncated"
    shutil.copytree(good, truncated)
    results = truncated / "db" / "results.jsonl"
    results.write_bytes(results.read_bytes()[:-40])
    refused(truncated, "db/results.jsonl", "does not match its sha256")

    changed = tmp_path / "changed"
    shutil.copytree(good, changed)
    key = next(k for k in json.loads((good / "manifest.json").read_text())["files"] if k.startswith("images/"))
    (changed / "files" / key).write_bytes(b"not the image")
    refused(changed, f"files/{key}", "does not match its sha256")

    newer = tmp_path / "newer"
    shutil.copytree(good, newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["schema_revision"] = "9999"
    (newer / "manifest.json").write_text(json.dumps(manifest))
    refused(newer, "newer than this licbench")

    shutil.rmtree(truncated / "db")
    (truncated / "manifest.json").unlink()
    refused(truncated, "manifest.json is missing")

    refused(good, "the target is not empty", replace=False)  # the restored copy holds data now


def _broker_tasks(data_dir: Path) -> list[str]:
    """Names of the task messages waiting in the embedded broker under ``data_dir``."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{data_dir / 'broker.sqlite'}")
    with engine.connect() as connection:
        payloads = [row[0] for row in connection.execute(text("SELECT payload FROM licbench_broker_message"))]
    engine.dispose()
    return sorted(json.loads(p)["headers"]["task"] for p in payloads)


def test_backup_at_an_older_schema_restores_to_head_and_sends_unfinished_work_again(
    api, settings_env, tmp_path, monkeypatch, capsys
):
    """A backup written by a licbench at 0012 (before the hash columns of 0013) with unfinished work in it."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from app.db.migrate import alembic_config
    from app.db.session import session_factory
    from app.services.operations import backup
    from app.services.studies import crop_scores, studies
    from app.settings import get_settings

    old = "0012_study_imports"
    job = run_small_job_in_process(api, sizes=((40, 48),), rate_points=(30,))
    study = api.post(
        "/api/v1/studies",
        json={"name": "crops", "method": "pairwise", "job_id": job["id"], "trials_per_session": 2, "crop": 24},
    ).json()
    with session_factory()() as session:  # crops queued for scoring: the report asked for them
        assert crop_scores.request_scores(session, studies.get_study(session, study["id"])) == (0, 1)
    triplet = api.post(
        "/api/v1/studies",
        json={"name": "t", "method": "triplet", "job_id": job["id"], "trials_per_session": 2},
    ).json()
    assert api.get(f"/api/v1/studies/{triplet['id']}/scale").status_code == 202  # sent to a worker
    zip_path, _ = dataset_zip(tmp_path, "tid2013", references=1, kinds=(1,), levels=(1,))
    dataset = post_dataset(api, zip_path, "tid2013", metrics="psnr").json()  # queued: no worker ran it
    image_set = api.get("/api/v1/image-sets").json()[0]["id"]
    queued_job = api.post(
        "/api/v1/jobs",
        json={"image_set_id": image_set, "codecs": [{"name": "jpeg", "rate_points": [50]}], "metrics": ["psnr"]},
    ).json()["id"]
    before = {url: api.get(url).json() for url in (f"/api/v1/jobs/{job['id']}", f"/api/v1/jobs/{job['id']}/results")}

    url = get_settings().resolved_database_url
    command.downgrade(alembic_config(url), old)  # the database as that licbench kept it
    with monkeypatch.context() as patch:
        patch.setattr(backup, "code_head", lambda: old)  # ... and its `licbench backup`
        assert main(["backup", str(tmp_path / "bk")]) == 0
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["schema_revision"] == old
    assert "reconstruction_sha256" not in (tmp_path / "bk" / "db" / "results.jsonl").read_text()

    target = tmp_path / "restored"
    _use_data_dir(monkeypatch, target)
    capsys.readouterr()
    assert main(["restore", str(tmp_path / "bk")]) == 0
    out = capsys.readouterr().out
    assert f"jobs [{queued_job}]" in out and f"data sets [{dataset['id']}]" in out, out
    assert f"studies [{study['id']}]" in out and f"studies [{triplet['id']}]" in out, out

    engine = create_engine(get_settings().resolved_database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == backup.code_head()
        hashes = connection.execute(text("SELECT reconstruction_path, reconstruction_sha256 FROM results")).all()
        crops = connection.execute(text("SELECT image_key, image_sha256 FROM study_conditions")).all()
        files = connection.execute(text("SELECT file_hashes FROM iqa_datasets")).scalar()
        marker = connection.execute(
            text("SELECT scale_queued_version FROM studies WHERE id = :id"), {"id": triplet["id"]}
        ).scalar()
    engine.dispose()
    # the hashes 0013 added are filled from the verified manifest, not left to a later verify
    assert hashes and all(digest == manifest["files"][key] for key, digest in hashes)
    assert crops and all(digest == manifest["files"][key] for key, digest in crops if key)
    assert files and all(
        manifest["files"][f"datasets/{dataset['id']}/{k}"] == v
        for k, v in (files if isinstance(files, dict) else json.loads(files)).items()
    )
    assert marker is None  # the next GET /scale sends it again
    tasks = _broker_tasks(target)
    assert tasks.count("licbench.run_task") == 1, tasks
    assert "licbench.prepare_dataset" in tasks and "licbench.score_study_crops" in tasks, tasks

    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app()) as restored:
        restored.headers.update(api.headers)
        assert {url: restored.get(url).json() for url in before} == before
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    assert "0 missing, 0 changed, 0 unreferenced" in out and "recorded the sha256" not in out, out
