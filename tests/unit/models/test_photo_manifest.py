"""Photo sets kept out of git: a missing or altered photo stops training and the Kodak benchmark, naming the file."""

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from models.photo_manifest import PhotoSetError, load_manifest, verify_photos
from models.training.multirate import TrainConfig, training_images

ROOT = Path(__file__).resolve().parents[3]


def _photo_set(tmp_path: Path, count: int = 2) -> Path:
    """A manifest (absolute folder) over ``count`` small PNGs; returns the manifest path."""
    folder = tmp_path / "photos"
    folder.mkdir()
    files = []
    for i in range(count):
        path = folder / f"{i:03d}.png"
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(path)
        data = path.read_bytes()
        files.append({"path": path.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "name": "tiny",
                "repository": "owner/name",
                "commit": "0" * 40,
                "source_dir": "photos",
                "folder": str(folder),
                "files": files,
            }
        )
    )
    return manifest


def test_verified_photos_are_listed_in_manifest_order(tmp_path):
    manifest = load_manifest(_photo_set(tmp_path))
    assert [p.name for p in verify_photos(manifest)] == ["000.png", "001.png"]


def test_missing_photo_is_named_with_the_copy_command(tmp_path):
    manifest = _photo_set(tmp_path)
    (tmp_path / "photos" / "001.png").unlink()
    with pytest.raises(PhotoSetError, match=r"001\.png is missing.*scripts/fetch_photos\.py tiny"):
        verify_photos(load_manifest(manifest))


def test_altered_photo_is_named(tmp_path):
    manifest = _photo_set(tmp_path)
    Image.fromarray(np.full((8, 8, 3), 7, np.uint8)).save(tmp_path / "photos" / "000.png")
    with pytest.raises(PhotoSetError, match=r"000\.png does not match its sha256"):
        verify_photos(load_manifest(manifest))


def test_training_stops_on_a_partial_photo_set(tmp_path):
    manifest = _photo_set(tmp_path)
    config = TrainConfig(photo_sets=[str(manifest)], data=str(tmp_path / "photos"))
    assert len(training_images(config)) == 4  # the folder's 2 photos, then the set's 2
    (tmp_path / "photos" / "000.png").unlink()
    with pytest.raises(PhotoSetError, match=r"000\.png is missing"):
        training_images(TrainConfig(photo_sets=[str(manifest)]))


def test_committed_manifests_list_the_sets_the_docs_name():
    wikipedia = load_manifest(ROOT / "models/training/data/wikipedia_photos_manifest.json")
    kodak = load_manifest(ROOT / "benchmarks/data/kodak_manifest.json")
    assert (len(wikipedia.files), len(kodak.files)) == (49, 24)
    assert wikipedia.folder.startswith("data/") and kodak.folder.startswith("data/")  # git-ignored


def test_kodak_benchmark_without_the_photos_exits_naming_the_copy_script(tmp_path, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location("kodak_benchmark", ROOT / "benchmarks" / "kodak.py")
    kodak = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kodak)
    empty = json.loads((ROOT / "benchmarks/data/kodak_manifest.json").read_text())
    empty["folder"] = str(tmp_path / "nowhere")
    monkeypatch.setattr(kodak, "MANIFEST", tmp_path / "kodak.json")
    (tmp_path / "kodak.json").write_text(json.dumps(empty))
    assert kodak.main(["--images", "1"]) == 2
    assert "scripts/fetch_photos.py kodak" in capsys.readouterr().err
