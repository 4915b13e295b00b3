"""Butteraugli through libjxl's own butteraugli_main: our wrapper passes the exact pixels (the value
equals the tool run on the original files), 0 for identical images, larger for more distortion."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from metrics.base import MetricContext
from metrics.butteraugli import BUTTERAUGLI_MIN_SIZE, TOOL, Butteraugli, Butteraugli3Norm, butteraugli_tool
from metrics.scoring import score, to_tensor
from tests.support.calibration import IMAGES, calibration_folder
from tests.support.images import random_photo

pytestmark = pytest.mark.skipif(
    shutil.which(TOOL) is None, reason=f"{TOOL} not installed (apt-get install libjxl-devtools; scripts/test.sh does)"
)


def test_equals_the_reference_tool_on_the_original_calibration_files(tmp_path):
    folder = calibration_folder()
    name = IMAGES[3]  # I08
    paths = []
    for sub in ("ref_dir", "dist_dir"):
        path = tmp_path / f"{sub}.png"
        Image.open(folder / sub / f"{name}.bmp").convert("RGB").save(path)
        paths.append(path)
    theirs = butteraugli_tool(*paths)
    ref, dist = (to_tensor(np.asarray(Image.open(p))) for p in paths)
    assert Butteraugli().compute(ref, dist) == [theirs[0]]
    assert Butteraugli3Norm().compute(ref, dist) == [theirs[1]]
    assert theirs[0] > theirs[1] > 0


def test_identical_is_zero_and_more_noise_is_farther():
    ref = random_photo(48, 64, seed=7)
    rng = np.random.default_rng(1)
    noisy = [np.clip(ref.astype(int) + rng.integers(-a, a + 1, ref.shape), 0, 255).astype(np.uint8) for a in (4, 40)]
    rows = score(ref, [ref, *noisy], [Butteraugli(), Butteraugli3Norm()])
    for name in ("butteraugli", "butteraugli-3norm"):
        values = [row[name].value for row in rows]
        assert values[0] == 0.0 and 0.0 < values[1] < values[2], (name, values)


def test_too_small_images_are_not_applicable():
    tiny = random_photo(BUTTERAUGLI_MIN_SIZE - 1, 30, seed=8)
    row = score(tiny, [tiny], [Butteraugli()])[0]
    assert row["butteraugli"].value is None and "8x8" in row["butteraugli"].reason


def test_missing_tool_makes_it_unavailable_with_the_package_name(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    availability = Butteraugli(MetricContext()).availability()
    assert not availability.available and "libjxl-devtools" in availability.reason
