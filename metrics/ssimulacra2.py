"""SSIMULACRA 2 (Jon Sneyers, Cloudinary/libjxl): multi-scale SSIM and edge-artefact maps in XYB.

Computed with the pure-Python port on PyPI (``ssimulacra2`` 0.3.0), which reads image files, so
the images are written as lossless PNG to a temporary folder. That port was not validated here
against libjxl's C++ ``ssimulacra2`` tool: no packaged reference implementation exists here (looked
for: Debian bookworm's libjxl-tools / libjxl-devtools 0.7 ship ``ssimulacra_main``, i.e. SSIMULACRA
1, not 2; on PyPI only this port and no wheel of the C++ tool). Its blur follows the C++ recursive
Gaussian only approximately. Scale: 100 = identical, 90 very high quality,
70 high, 50 medium, 30 low; strongly distorted images can go below 0. Higher is better.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from metrics.base import Metric, MetricAvailability

SSIMULACRA2_MIN_SIZE = 8  # the port skips scales below 8 pixels; the first scale needs 8


def _png(image: torch.Tensor, path: Path) -> None:
    array = (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(np.ascontiguousarray(array)).save(path)


class SSIMULACRA2(Metric):
    name = "ssimulacra2"
    unit = "score"
    higher_is_better = True
    value_range = (-100.0, 100.0)
    description = "SSIMULACRA 2 (Python port, PyPI ssimulacra2 0.3.0; not validated against libjxl's tool)"
    reference = ("not validated: no packaged reference ssimulacra2 here (Debian libjxl-devtools 0.7 has only "
                 "SSIMULACRA 1's ssimulacra_main; PyPI has only this port)")
    min_size = SSIMULACRA2_MIN_SIZE
    colour = "XYB"

    def availability(self) -> MetricAvailability:
        try:
            import ssimulacra2  # noqa: F401
        except ImportError:
            return MetricAvailability(False, "ssimulacra2 needs the ssimulacra2 package (pip install ssimulacra2)")
        return MetricAvailability(True)

    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        from ssimulacra2 import compute_ssimulacra2

        with tempfile.TemporaryDirectory(prefix="licbench-ssimulacra2-") as tmp:
            ref_path = Path(tmp, "reference.png")
            _png(reference[0], ref_path)
            values = []
            for i, image in enumerate(distorted):
                path = Path(tmp, f"distorted-{i}.png")
                _png(image, path)
                values.append(float(compute_ssimulacra2(str(ref_path), str(path))))
        return values
