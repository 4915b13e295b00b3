"""IQA data set import: every published layout read from tiny synthetic fixtures, every bad archive refused."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np
import pytest

from analysis.iqa_datasets import (
    DatasetError,
    find_layout_root,
    get_layout,
    layout_names,
    read_dataset,
    safe_extract,
    verify_images,
)
from tests.support import iqa_fixtures as fx


def extract(zip_path: Path, tmp_path: Path, **limits) -> Path:
    return safe_extract(zip_path, tmp_path / "extracted", **limits)


@pytest.mark.parametrize("layout", list(fx.WRITERS))
def test_every_layout_reads_its_fixture_from_a_zip_with_one_top_level_folder(tmp_path, layout):
    source = tmp_path / "source"
    fixture = fx.WRITERS[layout](source)
    zip_path = fx.zip_folder(
        source,
        tmp_path / "set.zip",
        top_level="release",
        extra={"readme.txt": b"licence text", "notes/extra.pdf": b"%PDF"},
    )
    index = read_dataset(extract(zip_path, tmp_path), get_layout(layout))
    assert index.root.name == "release"
    assert (index.n_references, index.n_distorted) == (fixture.n_references, fixture.n_distorted)
    assert {d.path: d.score for d in index.distorted} == pytest.approx(fixture.scores)
    assert not any("readme" in p or "extra.pdf" in p for p in index.image_paths())  # files not named are ignored
    assert verify_images(index) == []


@pytest.mark.parametrize("layout", list(fx.WRITERS))
def test_every_layout_reads_its_files_at_the_archive_root(tmp_path, layout):
    fixture = fx.WRITERS[layout](tmp_path / "source")
    index = read_dataset(
        extract(fx.zip_folder(tmp_path / "source", tmp_path / "set.zip"), tmp_path), get_layout(layout)
    )
    assert index.n_distorted == fixture.n_distorted


def test_score_direction_per_layout(tmp_path):
    expected = {
        "tid2013": (True, "MOS"),
        "kadid10k": (True, "DMOS"),
        "csiq": (False, "DMOS"),
        "live": (False, "DMOS"),
        "clic2021-perceptual": (True, "2AFC"),
        "generic-csv": (True, "MOS"),
    }
    for name, writer in fx.WRITERS.items():
        writer(tmp_path / name)
        index = read_dataset(tmp_path / name, get_layout(name))
        assert (index.higher_is_better, index.unit) == expected[name], name
        if index.distorted:  # oriented scores: higher = better for every layout (milder level scores higher)
            oriented = dict(zip((d.path for d in index.distorted), index.human_scores()))
            levels = {d.path: d.level for d in index.distorted}
            if all(v is not None for v in levels.values()):
                by_level = {}
                for path, value in oriented.items():
                    by_level.setdefault(levels[path], []).append(value)
                means = [np.mean(by_level[k]) for k in sorted(by_level)]
                assert means == sorted(means, reverse=True), name


def test_tid2013_distortion_types_levels_and_case_insensitive_reference_names(tmp_path):
    fx.write_tid2013(tmp_path, references=1, kinds=(10,), levels=(2,))
    index = read_dataset(tmp_path, get_layout("tid2013"))
    (only,) = index.distorted
    assert (only.distortion, only.level, only.reference) == ("jpeg compression", 2, "reference_images/I01.BMP")


def test_live_leaves_out_the_reference_copies_marked_in_orgs(tmp_path):
    fx.write_live(tmp_path, per_folder=2, with_original_copy=True)
    index = read_dataset(tmp_path, get_layout("live"))
    assert "jp2k/img3.bmp" not in {d.path for d in index.distorted}
    assert index.n_distorted == 10
    assert {d.distortion for d in index.distorted} == set(fx.LIVE_FOLDERS)


def test_clic_triplets_keep_the_human_choice(tmp_path):
    fx.write_clic2021(tmp_path, originals=2, header=True)
    index = read_dataset(tmp_path, get_layout("clic2021-perceptual"))
    assert [(t.a.split("/")[0], t.prefers_a) for t in index.triplets] == [
        ("methodA", True),
        ("methodB", False),
        ("methodA", True),
        ("methodB", False),
    ]


def test_generic_csv_takes_the_direction_from_the_column_or_the_option(tmp_path):
    fx.write_generic_csv(tmp_path / "lower", higher_is_better=False)
    assert read_dataset(tmp_path / "lower", get_layout("generic-csv")).higher_is_better is False
    fx.write_generic_csv(tmp_path / "none", higher_is_better=None)
    with pytest.raises(DatasetError, match="higher_is_better"):
        read_dataset(tmp_path / "none", get_layout("generic-csv"))
    assert read_dataset(tmp_path / "none", get_layout("generic-csv", higher_is_better=False)).unit == "DMOS"
    with pytest.raises(DatasetError, match="says higher_is_better=False"):
        read_dataset(tmp_path / "lower", get_layout("generic-csv", higher_is_better=True))


def test_layout_registry_names_and_unknown_layout():
    assert layout_names() == ["tid2013", "kadid10k", "csiq", "live", "clic2021-perceptual", "generic-csv", "aic4"]
    with pytest.raises(DatasetError, match="unknown layout 'tid2008'"):
        get_layout("tid2008")
    with pytest.raises(DatasetError, match="generic-csv only"):
        get_layout("tid2013", higher_is_better=True)


# --- bad score files and missing files -------------------------------------------------------------


def test_a_file_the_score_file_names_but_the_archive_lacks(tmp_path):
    fx.write_kadid10k(tmp_path)
    (tmp_path / "images" / "I02_10_03.png").unlink()
    with pytest.raises(DatasetError, match="dmos.csv names images/I02_10_03.png, which the archive does not contain"):
        read_dataset(tmp_path, get_layout("kadid10k"))


def test_missing_reference(tmp_path):
    fx.write_tid2013(tmp_path)
    (tmp_path / "reference_images" / "I02.BMP").unlink()
    with pytest.raises(DatasetError, match="reference image I02.BMP"):
        read_dataset(tmp_path, get_layout("tid2013"))


def test_score_file_with_wrong_columns(tmp_path):
    fx.write_kadid10k(tmp_path)
    rows = list(csv.reader(open(tmp_path / "dmos.csv")))
    rows[0] = ["distorted", "reference", "score", "var"]
    with open(tmp_path / "dmos.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(DatasetError, match="dmos.csv lacks column"):
        read_dataset(tmp_path, get_layout("kadid10k"))


@pytest.mark.parametrize("bad", ["good", "nan", ""])
def test_non_numeric_scores(tmp_path, bad):
    fx.write_tid2013(tmp_path)
    lines = (tmp_path / "mos_with_names.txt").read_text().splitlines()
    lines[3] = f"{bad} {lines[3].split()[1]}" if bad else lines[3].split()[1]
    (tmp_path / "mos_with_names.txt").write_text("\n".join(lines))
    with pytest.raises(DatasetError, match="mos_with_names.txt line 4"):
        read_dataset(tmp_path, get_layout("tid2013"))


def test_csiq_bad_rows(tmp_path):
    fx.write_csiq(tmp_path / "a", rows_override=[[1600, 1, "noise", 1, 0.01, "n/a"]])
    with pytest.raises(DatasetError, match="row 2: score 'n/a' is not a number"):
        read_dataset(tmp_path / "a", get_layout("csiq"))
    fx.write_csiq(tmp_path / "b", rows_override=[[1600, 1, "sharpen", 1, 0.01, 0.3]])
    with pytest.raises(DatasetError, match="unknown distortion type 'sharpen'"):
        read_dataset(tmp_path / "b", get_layout("csiq"))
    fx.write_csiq(tmp_path / "c")
    (tmp_path / "c" / "csiq.DMOS.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(DatasetError, match="not a readable xlsx"):
        read_dataset(tmp_path / "c", get_layout("csiq"))


def test_live_score_count_must_match_the_folders(tmp_path):
    fx.write_live(tmp_path)
    (tmp_path / "wn" / "img2.bmp").unlink()
    with pytest.raises(DatasetError, match="dmos.mat has 11 scores but the folders hold 10 images"):
        read_dataset(tmp_path, get_layout("live"))


def test_clic_bad_target(tmp_path):
    fx.write_clic2021(tmp_path)
    with open(tmp_path / "oracle.csv", "a") as handle:
        handle.write("originals/img1.png,methodA/img1.png,methodB/img1.png,maybe\n")
    with pytest.raises(DatasetError, match="T must be 0 or 1"):
        read_dataset(tmp_path, get_layout("clic2021-perceptual"))


def test_wrong_layout_names_the_files_it_expected(tmp_path):
    fx.write_kadid10k(tmp_path)
    with pytest.raises(
        DatasetError, match="no tid2013 layout found: expected reference_images, distorted_images, mos_with_names.txt"
    ):
        read_dataset(tmp_path, get_layout("tid2013"))


def test_two_top_level_folders_are_not_searched(tmp_path):
    fx.write_kadid10k(tmp_path / "x" / "one")
    (tmp_path / "x" / "two").mkdir()
    with pytest.raises(DatasetError, match="no kadid10k layout found"):
        find_layout_root(tmp_path / "x", get_layout("kadid10k"))


def test_an_image_that_does_not_decode_is_reported_by_verify_images(tmp_path):
    fx.write_kadid10k(tmp_path)
    (tmp_path / "images" / "I01_01_02.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    index = read_dataset(tmp_path, get_layout("kadid10k"))  # the structure is fine
    problems = verify_images(index)
    assert len(problems) == 1 and problems[0].startswith("images/I01_01_02.png does not decode")


def test_a_distorted_image_of_another_size_than_its_reference_is_reported(tmp_path):
    fx.write_tid2013(tmp_path)
    fx.save(tmp_path / "distorted_images" / "i01_01_2.bmp", np.zeros((8, 8, 3), np.uint8))
    problems = verify_images(read_dataset(tmp_path, get_layout("tid2013")))
    assert problems == ["distorted_images/i01_01_2.bmp is 8x8 but its reference reference_images/I01.BMP is 32x24"]


# --- bad archives ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt", "C:/evil.txt", "..\\evil.txt"])
def test_zip_slip_names_are_refused_and_nothing_is_written(tmp_path, name):
    zip_path = fx.zip_entries(tmp_path / "slip.zip", {"ok.txt": b"fine", name: b"evil"})
    with pytest.raises(DatasetError, match="unsafe path in archive"):
        extract(zip_path, tmp_path)
    assert not (tmp_path / "extracted").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_zip_bomb_ratio_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="compression ratio"):
        extract(fx.zip_bomb(tmp_path / "bomb.zip", megabytes=8), tmp_path)
    assert not (tmp_path / "extracted").exists()


def test_total_size_and_file_count_limits(tmp_path):
    zip_path = fx.zip_entries(tmp_path / "many.zip", {f"f{i}.txt": b"x" * 100 for i in range(5)})
    with pytest.raises(DatasetError, match="unpacks to 500 bytes"):
        extract(zip_path, tmp_path, max_total_bytes=499)
    with pytest.raises(DatasetError, match="holds 5 entries"):
        extract(zip_path, tmp_path, max_files=4)
    assert extract(zip_path, tmp_path, max_total_bytes=500, max_files=5).is_dir()


def test_a_header_that_understates_the_size_is_caught_while_inflating(tmp_path):
    zip_path = fx.zip_entries(tmp_path / "liar.zip", {"data.bin": bytes(3 * 1024 * 1024)})
    raw = bytearray(zip_path.read_bytes())
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo("data.bin")
    true_size = info.file_size.to_bytes(4, "little")
    fake = (1000).to_bytes(4, "little")
    assert raw.count(true_size) == 2  # local header and central directory
    raw = raw.replace(true_size, fake)
    zip_path.write_bytes(bytes(raw))
    with pytest.raises(DatasetError):
        extract(zip_path, tmp_path)
    assert not (tmp_path / "extracted").exists()


def test_symbolic_links_and_non_zip_files_are_refused(tmp_path):
    with pytest.raises(DatasetError, match="symbolic link"):
        extract(fx.zip_symlink(tmp_path / "link.zip"), tmp_path)
    (tmp_path / "not.zip").write_bytes(b"PK but not really a zip")
    with pytest.raises(DatasetError, match="not a readable zip archive"):
        extract(tmp_path / "not.zip", tmp_path)


def test_dataset_observations_orient_dmos_and_group_by_reference(tmp_path):
    from analysis.correlation import correlate, two_afc_agreement
    from analysis.iqa_datasets import dataset_observations, dataset_two_afc_pairs

    fixture = fx.write_csiq(tmp_path / "csiq")
    index = read_dataset(tmp_path / "csiq", get_layout("csiq"))
    # a metric that is exactly the negated DMOS agrees perfectly with people
    values = {d.path: {"perfect": -d.score} for d in index.distorted}
    observations = dataset_observations(index, values)
    assert [o.human for o in observations] == [-fixture.scores[o.condition] for o in observations]
    assert {o.image for o in observations} == set(index.references)
    assert {o.distortion for o in observations} == {"awgn", "jpeg2000"}
    assert correlate(observations, {"perfect": True}, n_bootstrap=0).metrics[0].srocc == pytest.approx(1.0)

    fx.write_clic2021(tmp_path / "clic")
    clic = read_dataset(tmp_path / "clic", get_layout("clic2021-perceptual"))
    distance = {t: {"mse": 1.0 if t.startswith("methodA") else 5.0} for t in clic.image_paths()}
    pairs = dataset_two_afc_pairs(clic, distance, "mse")
    assert len(pairs) == 6
    assert two_afc_agreement(pairs, higher_is_better=False, n_bootstrap=0).share == 1.0


def test_paths_with_a_prefix_or_a_unique_file_name_are_found_but_never_outside_the_root(tmp_path):
    from analysis.iqa_datasets.base import FileTable

    fx.write_generic_csv(tmp_path / "set")
    table = FileTable(tmp_path / "set")
    assert table.find("./dist/R1_NOISE_1.png") == "dist/r1_noise_1.png"
    assert table.find("../set/dist/r1_noise_1.png") is None
    assert table.find_loose("LIVE/dist/r1_noise_1.png") == "dist/r1_noise_1.png"
    assert table.find_loose("elsewhere/r1_noise_2.png") == "dist/r1_noise_2.png"
    assert table.find_loose("../dist/r1_noise_1.png") is None
    rows = (tmp_path / "set" / "scores.csv").read_text().replace("dist/", "KADID/dist/")
    (tmp_path / "set" / "scores.csv").write_text(rows)
    assert read_dataset(tmp_path / "set", get_layout("generic-csv")).n_distorted == 6
