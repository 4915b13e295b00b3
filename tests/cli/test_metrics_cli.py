"""``licbench score``: one pair (text or JSON), two folders to CSV, and one-line errors (exit 2)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from metrics.registry import metric_names


@pytest.fixture(autouse=True)
def empty_weights_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("WEIGHTS_DIR", str(tmp_path / "no-weights"))
    from app.settings import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _write(path: Path, seed: int, size=(48, 64), noise: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (*size, 3)).astype(float)
    pixels = np.clip(np.round(pixels + rng.normal(0, noise, pixels.shape)), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return pixels


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    ref, dist = tmp_path / "ref.png", tmp_path / "dist.png"
    pixels = _write(ref, 0)
    noisy = np.clip(pixels.astype(int) + np.random.default_rng(1).integers(-9, 10, pixels.shape), 0, 255)
    Image.fromarray(noisy.astype(np.uint8)).save(dist)
    return ref, dist


def test_json_maps_every_metric_to_a_value_and_lists_unavailable_ones_with_reasons(tmp_path, capsys):
    ref, dist = _pair(tmp_path)
    assert main(["score", str(ref), str(dist), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["scores"]) == metric_names()
    assert 25 < out["scores"]["psnr"] < 40
    assert out["scores"]["lpips"] is None
    assert "alexnet-owt-7be5be79.pth" in out["unavailable"]["lpips"]
    assert "ms-ssim" in out["unavailable"]  # 64x48 is below MS-SSIM's 161 px
    assert all(out["scores"][name] is None for name in out["unavailable"])


def test_chosen_metrics_print_one_line_each(tmp_path, capsys):
    ref, dist = _pair(tmp_path)
    assert main(["score", str(ref), str(dist), "--metric", "psnr", "--metric", "gmsd"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["psnr", "gmsd"]


def test_bulk_scores_matching_file_names_into_a_csv(tmp_path, capsys):
    (tmp_path / "dists").mkdir()
    for i, name in enumerate(["a.png", "b.png", "c.png"]):
        pixels = _write(tmp_path / "refs" / name, i)
        Image.fromarray(np.clip(pixels.astype(int) + 3, 0, 255).astype(np.uint8)).save(tmp_path / "dists" / name)
    _write(tmp_path / "dists" / "orphan.png", 9)
    out = tmp_path / "scores.csv"
    code = main(
        [
            "score",
            "--refs",
            str(tmp_path / "refs"),
            "--dists",
            str(tmp_path / "dists"),
            "--csv",
            str(out),
            "--metric",
            "psnr",
            "--metric",
            "ms-ssim",
        ]
    )
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["distorted"] for r in rows] == ["a.png", "b.png", "c.png"]
    assert all(25 < float(r["psnr"]) < 50 for r in rows)
    assert all(r["ms-ssim"] == "" for r in rows)  # not applicable at 64x48, left empty
    err = capsys.readouterr().err
    assert "orphan.png" in err and "ms-ssim" in err


@pytest.mark.parametrize(
    "make_bad",
    [
        lambda p: p.write_text("not an image"),
        lambda p: None,  # missing file
    ],
)
def test_unreadable_image_is_a_one_line_error_with_exit_2(tmp_path, capsys, make_bad):
    ref, _ = _pair(tmp_path)
    bad = tmp_path / "bad.png"
    make_bad(bad)
    assert main(["score", str(ref), str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and "Traceback" not in err


def test_size_mismatch_and_unknown_metric_are_errors(tmp_path, capsys):
    ref, dist = _pair(tmp_path)
    other = tmp_path / "other.png"
    _write(other, 3, size=(20, 20))
    assert main(["score", str(ref), str(other)]) == 2
    assert main(["score", str(ref), str(dist), "--metric", "nope"]) == 2
    err = capsys.readouterr().err
    assert "20x20" in err and "unknown metric 'nope'" in err
