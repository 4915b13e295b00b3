"""The weights folder: every expected file listed as present/missing/corrupt; ``add`` copies verified files."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import pytest

warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)

from app import cli  # noqa: E402
from app.settings import get_settings  # noqa: E402
from models import weights_store  # noqa: E402
from models.weights_store import CORRUPT, MISSING, PRESENT, WeightFile, WeightsError  # noqa: E402
from models.zoo import zoo_weight_files  # noqa: E402


def released_file(tmp_path: Path, stem: str, payload: bytes, *, good_hash: bool = True) -> tuple[Path, WeightFile]:
    """A file named like a release, ``<stem>-<sha256 prefix>.pth.tar`` (or a wrong prefix)."""
    digest = hashlib.sha256(payload).hexdigest()[:8] if good_hash else "00000000"
    path = tmp_path / "downloads" / f"{stem}-{digest}.pth.tar"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return path, WeightFile("bmshj2018-hyperprior", 1, path.name, "compressai", "bmshj2018-hyperprior", "mse")


def test_hash_prefix_is_read_from_the_released_name():
    assert weights_store.hash_prefix_of("bmshj2018-hyperprior-4-de1b779c.pth.tar") == "de1b779c"
    assert weights_store.hash_prefix_of("bmshj2018-factorized-prior-1-446d5c7f.pth.tar") == "446d5c7f"
    assert weights_store.hash_prefix_of("cheng2020_attn-ms-ssim-6-216423ec.pth.tar") == "216423ec"
    assert weights_store.hash_prefix_of("model.pth") is None


def test_status_lists_every_expected_file_present_missing_or_corrupt(tmp_path):
    good_src, good = released_file(tmp_path, "bmshj2018-hyperprior-1", b"good weights")
    bad_src, bad = released_file(tmp_path, "bmshj2018-hyperprior-2", b"bad weights", good_hash=False)
    absent = WeightFile("bmshj2018-hyperprior", 3, "bmshj2018-hyperprior-3-6d87be32.pth.tar")
    weights = tmp_path / "weights"
    (weights / "compressai").mkdir(parents=True)
    (weights / "compressai" / good.filename).write_bytes(good_src.read_bytes())
    (weights / "compressai" / bad.filename).write_bytes(bad_src.read_bytes())

    rows = weights_store.status(weights, [good, bad, absent])
    assert [r.status for r in rows] == [PRESENT, CORRUPT, MISSING]
    assert "does not start with 00000000" in rows[1].reason
    assert str(weights / "compressai" / absent.filename) in rows[2].reason


def test_status_of_an_empty_folder_lists_all_88_zoo_files_as_missing(tmp_path):
    rows = weights_store.status(tmp_path, zoo_weight_files())
    assert len(rows) == len(zoo_weight_files()) == 88
    assert {r.status for r in rows} == {MISSING}


def test_add_copies_verified_files_under_their_released_names(tmp_path):
    src, file = released_file(tmp_path, "bmshj2018-hyperprior-1", b"weights bytes")
    weights = tmp_path / "weights"
    added = weights_store.add(weights, [src], [file])
    assert [r.status for r in added] == [PRESENT]
    assert (weights / "compressai" / file.filename).read_bytes() == b"weights bytes"
    assert not list((weights / "compressai").glob(".incoming-*"))


def test_add_refuses_a_wrong_hash_or_unknown_name_and_copies_nothing(tmp_path):
    good_src, good = released_file(tmp_path, "bmshj2018-hyperprior-1", b"good")
    bad_src, bad = released_file(tmp_path, "bmshj2018-hyperprior-2", b"bad", good_hash=False)
    weights = tmp_path / "weights"
    with pytest.raises(WeightsError, match="corrupt"):
        weights_store.add(weights, [good_src, bad_src], [good, bad])
    assert not (weights / "compressai" / good.filename).exists()
    stray = tmp_path / "my-model.pth"
    stray.write_bytes(b"x")
    with pytest.raises(WeightsError, match="not an expected weights file name"):
        weights_store.add(weights, [stray], [good])
    with pytest.raises(WeightsError, match="no such file"):
        weights_store.add(weights, [tmp_path / "absent.pth.tar"], [good])


@pytest.fixture
def weights_env(tmp_path, monkeypatch):
    monkeypatch.setenv("WEIGHTS_DIR", str(tmp_path / "weights"))
    get_settings.cache_clear()
    yield tmp_path / "weights"
    get_settings.cache_clear()


def test_cli_weights_status_lists_every_expected_file(weights_env, capsys):
    assert cli.main(["weights", "status"]) == 0
    out = capsys.readouterr().out
    for f in zoo_weight_files():
        assert f.relative_path in out
    assert "0 present, 88 missing, 0 corrupt of 88 expected files" in out
    assert cli.main(["weights", "status", "--codec", "cheng2020-attn", "--check"]) == 1
    assert "of 6 expected files" in capsys.readouterr().out


def test_cli_weights_add_rejects_a_misnamed_file_with_one_line(weights_env, tmp_path, capsys):
    stray = tmp_path / "bmshj2018-hyperprior-4-de1b779c.pth.tar"  # released name, wrong bytes
    stray.write_bytes(b"not the released file")
    assert cli.main(["weights", "add", str(stray)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("licbench weights: error:") and "corrupt" in err
    assert len(err.splitlines()) == 1
    assert not (weights_env / "compressai" / stray.name).exists()
