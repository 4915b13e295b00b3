"""Our metrics against the original authors' values on pyiqa's five calibration pairs.

The pairs (TID2013 images I03, I04, I06, I08, I19, 512x384 RGB BMP) ship in the pyiqa 0.1.16 wheel
under ResultsCalibra/; the fixture downloads that wheel once with ``pip download --no-deps`` into
the gitignored ``.cache/`` folder and unzips only that folder. The official values are the
"(org)" rows of pyiqa's ResultsCalibra table, copied into ../shared/REFERENCES.md.

Colour convention of each official value (from pyiqa's notes on how the authors' code was run):
- psnr: RGB, all three channels, data range 255 (skimage's peak_signal_noise_ratio) -> our ``psnr``.
- ssim: the authors' ssim_index.m on ``rgb2gray`` input, without the automatic downsampling of the
  later ssim.m -> our ``ssim`` (8-bit grey, no downsampling).
- ms_ssim: the authors' msssim.m on ``rgb2gray`` input -> our ``ms-ssim-y``.
- fsim: the authors' FSIM.m, chromatic FSIMc on RGB -> our ``fsim``.
- gmsd: the authors' GMSD.m on ``rgb2gray`` input -> our ``gmsd``.
- vif: the authors' vifvec.m, i.e. *wavelet-domain* VIF (steerable pyramid) on ``rgb2gray`` input
  -> our ``vif`` (checked in test_vif.py). Our ``vifp`` is the pixel-domain VIFp, a
  different index: it cannot match, and the test below records that difference.

Tolerance: 1% relative (PSNR: 0.01 dB), but never tighter than the rounding of the published
figure (4 decimals: +-0.00005; PSNR 2 decimals: +-0.005 dB), which matters for the GMSD values of
the two nearly lossless pairs (0.0005, 0.0004).
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

from metrics.registry import create_metric
from metrics.scoring import to_tensor

torch.set_num_threads(1)

PYIQA_WHEEL = "pyiqa==0.1.16"
CACHE_DIR = Path(__file__).resolve().parents[3] / ".cache" / "pyiqa-calibration"
IMAGES = ("I03", "I04", "I06", "I08", "I19")

# Official values (original authors' code), from ../shared/REFERENCES.md.
OFFICIAL = {
    "psnr": (21.11, 20.99, 27.01, 23.30, 21.62),
    "ssim": (0.6993, 0.9978, 0.9989, 0.9669, 0.6519),
    "ms_ssim": (0.6733, 0.9996, 0.9998, 0.9566, 0.8462),
    "vif": (0.0172, 0.9891, 0.9924, 0.9103, 0.1745),
    "fsim": (0.6890, 0.9702, 0.9927, 0.9575, 0.8220),
    "gmsd": (0.2203, 0.0005, 0.0004, 0.1346, 0.2050),
}
# pyiqa's own PSNR to 4 decimals, same convention (REFERENCES.md).
PYIQA_PSNR = (21.1136, 20.9872, 27.0139, 23.3002, 21.6186)
# official name -> (our metric, half a unit of the last published digit)
OURS = {"ssim": ("ssim", 5e-5), "ms_ssim": ("ms-ssim-y", 5e-5), "fsim": ("fsim", 5e-5), "gmsd": ("gmsd", 5e-5)}


def _fetch_calibration_pairs() -> Path:
    folder = CACHE_DIR / "ResultsCalibra"
    if all((folder / sub / f"{n}.bmp").is_file() for sub in ("ref_dir", "dist_dir") for n in IMAGES):
        return folder
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", PYIQA_WHEEL, "-d", str(CACHE_DIR)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    wheels = sorted(CACHE_DIR.glob("pyiqa-0.1.16-*.whl"))
    if done.returncode != 0 or not wheels:
        pytest.fail(
            f"could not download the {PYIQA_WHEEL} wheel for the calibration images: {done.stderr.strip()[-300:]}"
        )
    with zipfile.ZipFile(wheels[0]) as wheel:
        for member in wheel.namelist():
            if member.startswith("ResultsCalibra/") and member.endswith(".bmp"):
                wheel.extract(member, CACHE_DIR)
    wheels[0].unlink()
    return folder


@pytest.fixture(scope="session")
def calibration_pairs() -> list[tuple[torch.Tensor, torch.Tensor]]:
    folder = _fetch_calibration_pairs()
    load = lambda path: to_tensor(np.asarray(Image.open(path).convert("RGB")))  # noqa: E731
    return [(load(folder / "ref_dir" / f"{n}.bmp"), load(folder / "dist_dir" / f"{n}.bmp")) for n in IMAGES]


def _ours(metric: str, pairs) -> list[float]:
    return [create_metric(metric).compute(ref, dist)[0] for ref, dist in pairs]


def test_psnr_matches_official_rgb_values_within_a_hundredth_of_a_db(calibration_pairs):
    ours = _ours("psnr", calibration_pairs)
    np.testing.assert_allclose(ours, OFFICIAL["psnr"], atol=0.01)
    np.testing.assert_allclose(ours, PYIQA_PSNR, atol=0.01)


@pytest.mark.parametrize("official", sorted(OURS))
def test_metric_matches_original_authors_code_within_one_percent(calibration_pairs, official):
    metric, rounding = OURS[official]
    ours = np.array(_ours(metric, calibration_pairs))
    expected = np.array(OFFICIAL[official])
    allowed = np.maximum(0.01 * np.abs(expected), rounding)
    assert np.all(np.abs(ours - expected) <= allowed), (
        f"{metric} vs official {official}: ours {np.round(ours, 4).tolist()}, official {expected.tolist()}"
    )


def test_pixel_domain_vifp_is_not_the_official_wavelet_domain_vif(calibration_pairs):
    """Documents why ``vifp`` is not checked against the official figures: they are wavelet-domain
    VIF (vifvec.m), ``vifp`` is VIFp. The two agree in ranking here but not in value (I03: ~0.07 vs
    0.0172); the pixel-domain values are checked against piq in test_metrics_implementations."""
    ours = np.array(_ours("vifp", calibration_pairs))
    official = np.array(OFFICIAL["vif"])
    assert np.max(np.abs(ours - official) / official) > 0.01  # a different index, not a rounding issue
    assert np.argsort(ours).tolist() == np.argsort(official).tolist()
