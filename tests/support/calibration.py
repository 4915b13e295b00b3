"""pyiqa's calibration pairs and wheel, fetched once into the gitignored ``.cache/`` folder.

The pairs (TID2013 images I03, I04, I06, I08, I19, 512x384 RGB BMP) ship in the pyiqa 0.1.16
wheel under ResultsCalibra/; the official values of the original authors' code are the "(org)"
rows of pyiqa's ResultsCalibra table, copied into ../shared/REFERENCES.md. The wheel itself is kept
(``pyiqa_wheel``) for tests that compare against pyiqa's own implementation.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

PYIQA_VERSION = "0.1.16"
CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "pyiqa-wheel"
IMAGES = ("I03", "I04", "I06", "I08", "I19")

# Official values (original authors' code), from ../shared/REFERENCES.md.
OFFICIAL_VIF = (0.0172, 0.9891, 0.9924, 0.9103, 0.1745)


def pyiqa_wheel() -> Path:
    """The pyiqa 0.1.16 wheel (downloaded once with ``pip download --no-deps``); fails the test if
    it cannot be had."""
    wheels = sorted(CACHE_DIR.glob(f"pyiqa-{PYIQA_VERSION}-*.whl"))
    if wheels:
        return wheels[0]
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            f"pyiqa=={PYIQA_VERSION}",
            "-d",
            str(CACHE_DIR),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    wheels = sorted(CACHE_DIR.glob(f"pyiqa-{PYIQA_VERSION}-*.whl"))
    if done.returncode != 0 or not wheels:
        pytest.fail(
            f"could not download the pyiqa=={PYIQA_VERSION} wheel for the calibration images: "
            f"{done.stderr.strip()[-300:]}"
        )
    return wheels[0]


def calibration_folder() -> Path:
    """ResultsCalibra/ with ref_dir/ and dist_dir/ holding the five BMP pairs."""
    folder = CACHE_DIR / "ResultsCalibra"
    if all((folder / sub / f"{n}.bmp").is_file() for sub in ("ref_dir", "dist_dir") for n in IMAGES):
        return folder
    with zipfile.ZipFile(pyiqa_wheel()) as wheel:
        for member in wheel.namelist():
            if member.startswith("ResultsCalibra/") and member.endswith(".bmp"):
                wheel.extract(member, CACHE_DIR)
    return folder


def load_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def calibration_arrays() -> list[tuple[np.ndarray, np.ndarray]]:
    """(reference, distorted) uint8 RGB arrays of the five pairs, in ``IMAGES`` order."""
    folder = calibration_folder()
    return [(load_rgb(folder / "ref_dir" / f"{n}.bmp"), load_rgb(folder / "dist_dir" / f"{n}.bmp")) for n in IMAGES]


def calibration_tensors() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The five pairs as the metrics take them: (1,3,H,W) float32 in [0, 1]."""
    from metrics.scoring import to_tensor

    return [(to_tensor(ref), to_tensor(dist)) for ref, dist in calibration_arrays()]
