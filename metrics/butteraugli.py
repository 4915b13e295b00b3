"""Butteraugli (Alakuijala et al., Google; libjxl): a psychovisual distance of colour images in a
model of the early visual system (opsin dynamics, XYB, frequency-band masking). 0 = identical; about
1 is the just-noticeable difference at the intended viewing distance; lower is better.

Computed by libjxl's own reference tool ``butteraugli_main`` (Debian package ``libjxl-devtools``),
on lossless PNG copies of the exact 8-bit pixels, read as sRGB, at the tool's default intensity
target of 80 cd/m^2. ``butteraugli`` is the tool's headline distance (the max norm of the distance
map); ``butteraugli-3norm`` its 3-norm (the average-like pooling libjxl also reports). Each call
of the tool scores one pair; its distance map can be written with ``distance_map``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from metrics.base import Metric, MetricAvailability

TOOL = "butteraugli_main"
INTENSITY_TARGET = 80.0  # cd/m^2, the tool's default
# Below 8 pixels per side the tool reports 0 for any pair (its pyramid has no level).
BUTTERAUGLI_MIN_SIZE = 8
_TIMEOUT_S = 600


class ButteraugliError(RuntimeError):
    """The reference tool failed or printed something we cannot read."""


def _png(image: torch.Tensor | np.ndarray, path: Path) -> None:
    if isinstance(image, torch.Tensor):
        pixels = image.detach().cpu().squeeze(0).mul(255.0).round().clamp(0, 255).to(torch.uint8)
        image = pixels.permute(1, 2, 0).numpy()
    Image.fromarray(np.ascontiguousarray(image), "RGB").save(path, compress_level=1)


def butteraugli_tool(reference: Path, distorted: Path, distance_map: Path | None = None) -> tuple[float, float]:
    """(max-norm distance, 3-norm) printed by ``butteraugli_main`` for two image files."""
    tool = shutil.which(TOOL)
    if tool is None:
        raise ButteraugliError(f"{TOOL} not found (Debian package libjxl-devtools)")
    command = [tool, str(reference), str(distorted), "--intensity_target", str(INTENSITY_TARGET)]
    if distance_map is not None:
        command += ["--distmap", str(distance_map)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_S)
    numbers = re.findall(r"^\s*([0-9.eE+-]+)\s*$", done.stdout, flags=re.M)
    pnorm = re.search(r"3-norm:\s*([0-9.eE+-]+)", done.stdout)
    if done.returncode != 0 or not numbers or pnorm is None:
        raise ButteraugliError(f"{TOOL} failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-300:]}")
    return float(numbers[0]), float(pnorm.group(1))


def butteraugli(
    reference: torch.Tensor | np.ndarray, distorted: torch.Tensor | np.ndarray, distance_map: Path | None = None
) -> tuple[float, float]:
    """(max-norm distance, 3-norm) of one 8-bit sRGB pair: (1,3,H,W) tensors in [0, 1] or HxWx3 uint8."""
    with tempfile.TemporaryDirectory(prefix="licbench-butteraugli-") as folder:
        ref_path, dist_path = Path(folder) / "reference.png", Path(folder) / "distorted.png"
        _png(reference, ref_path)
        _png(distorted, dist_path)
        return butteraugli_tool(ref_path, dist_path, distance_map)


class Butteraugli(Metric):
    name = "butteraugli"
    higher_is_better = False
    value_range = (0.0, 20.0)  # unbounded above; ~1 is a just-noticeable difference
    unit = "butteraugli distance"
    reference = "libjxl's butteraugli_main (Debian libjxl-devtools), run as is"
    description = (
        "Butteraugli distance (max norm), libjxl's reference tool butteraugli_main, sRGB, "
        "intensity target 80 cd/m^2; lower is better, ~1 = just noticeable"
    )
    min_size = BUTTERAUGLI_MIN_SIZE
    _norm = 0  # index into butteraugli()'s (max norm, 3-norm)

    def availability(self) -> MetricAvailability:
        if shutil.which(TOOL) is None:
            return MetricAvailability(
                False, f"{self.name} needs libjxl's {TOOL} on PATH (apt-get install libjxl-devtools)"
            )
        return MetricAvailability(True)

    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        return [butteraugli(reference, d[None])[self._norm] for d in distorted]


class Butteraugli3Norm(Butteraugli):
    name = "butteraugli-3norm"
    value_range = (0.0, 10.0)
    description = (
        "Butteraugli 3-norm of the distance map, libjxl's reference tool butteraugli_main, "
        "sRGB, intensity target 80 cd/m^2; lower is better"
    )
    _norm = 1
