"""``licbench study import``: the same check as the API, one-line errors, --wait computes the scale here."""

from __future__ import annotations

from app.cli import main
from tests.api.test_study_import_api import aic3_csv


def test_import_aic3_files_and_wait_prints_the_jnd_scale(settings_env, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STUDY_BOOTSTRAP", "5")
    from app.settings import get_settings

    get_settings.cache_clear()
    path = tmp_path / "responses.csv"
    path.write_bytes(aic3_csv(workers=6))
    assert main(["study", "import", "--format", "aic3", str(path), "--wait"]) == 0
    out = capsys.readouterr().out
    assert "imported (triplet)" in out and "from 12 observers" in out  # BTC:w and PTC:w
    assert "PTC_00003_JPEG-AI_04.png" in out and "JND" in out


def test_bad_input_is_a_one_line_error_and_stores_nothing(settings_env, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("observer,scene,condition_A,condition_B,is_A_selected\no,s,x,y,7\n")
    assert main(["study", "import", "--format", "pwcmp", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("licbench study: error: file bad.csv, row 2, column is_A_selected")
    assert len(err.strip().splitlines()) == 1
    from app.db.session import session_scope
    from app.db.tables import Study

    with session_scope() as session:
        assert session.query(Study).count() == 0
