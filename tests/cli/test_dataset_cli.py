"""``licbench dataset import|list|show``: the same check as the API, one-line errors, --wait scores here."""

from __future__ import annotations

import json

from app.cli import main
from tests.support import iqa_fixtures
from tests.support.analysis import dataset_zip, stored_dataset_files


def test_import_a_folder_and_wait_prints_each_metrics_srocc(settings_env, tmp_path, capsys):
    folder = tmp_path / "kadid"
    fixture = iqa_fixtures.write_kadid10k(folder)
    code = main(
        [
            "dataset",
            "import",
            "--layout",
            "kadid10k",
            str(folder),
            "--name",
            "KADID tiny",
            "--metrics",
            "psnr,gmsd",
            "--wait",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{fixture.n_distorted} distorted" in out and "SROCC" in out
    assert "psnr" in out and "gmsd" in out and "(flipped)" in out
    assert main(["dataset", "list"]) == 0
    assert "succeeded" in capsys.readouterr().out
    assert main(["dataset", "show", "1"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "succeeded" and shown["progress"]["done"] == fixture.n_distorted
    assert (folder / "dmos.csv").exists()  # the lab's folder is copied, never moved


def test_import_a_zip_queues_it_for_the_workers(settings_env, tmp_path, capsys):
    zip_path, _ = dataset_zip(tmp_path, "tid2013")
    assert main(["dataset", "import", "--layout", "tid2013", str(zip_path), "--name", "TID", "--metrics", "psnr"]) == 0
    assert "queued for the workers" in capsys.readouterr().out
    main(["dataset", "show", "1"])
    assert json.loads(capsys.readouterr().out)["status"] == "queued"


def test_bad_input_is_a_one_line_error_and_stores_nothing(settings_env, tmp_path, capsys):
    slip = iqa_fixtures.zip_entries(tmp_path / "slip.zip", {"../evil.txt": b"x"})
    assert main(["dataset", "import", "--layout", "kadid10k", str(slip), "--name", "x", "--metrics", "psnr"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("licbench dataset: error: unsafe path") and len(err.strip().splitlines()) == 1
    assert main(["dataset", "import", "--layout", "nope", str(slip), "--name", "x"]) == 2
    assert "unknown layout" in capsys.readouterr().err
    assert main(["dataset", "import", "--layout", "kadid10k", str(tmp_path / "absent.zip"), "--name", "x"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["dataset", "show", "7"]) == 2
    assert "does not exist" in capsys.readouterr().err
    main(["dataset", "list"])
    assert "no data sets" in capsys.readouterr().out
    assert stored_dataset_files(settings_env) == []


def test_aic4_scores_only_import_prints_the_shipped_metrics_srocc_without_queueing(
    settings_env, tmp_path, capsys, monkeypatch
):
    from pathlib import Path

    from app.settings import get_settings

    monkeypatch.setenv("CORRELATION_BOOTSTRAP", "50")
    get_settings.cache_clear()
    fixture = Path(__file__).resolve().parents[1] / "data" / "aic4"
    code = main(["dataset", "import", "--layout", "aic4", str(fixture), "--name", "AIC-4 subset"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "72 distorted (JND)" in out and "scores only" in out and "queued" not in out
    assert "CVVDP" in out and "SROCC" in out
    main(["dataset", "show", "1"])
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "succeeded" and shown["scores_only"] is True
    assert main(["dataset", "import", "--layout", "aic4", str(fixture), "--name", "x", "--metrics", "psnr"]) == 2
    assert "ships its own metric values" in capsys.readouterr().err
