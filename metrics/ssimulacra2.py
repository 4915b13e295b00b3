"""SSIMULACRA 2 (Jon Sneyers, Cloudinary/libjxl): multi-scale SSIM and edge-artefact maps in XYB.

Computed by ``metrics.functional.ssimulacra2``: the computation of the pure-Python port on PyPI
(``ssimulacra2`` 0.3.0) in memory, batched per reference, equal to the port's ``compute_ssimulacra2``
on PNG files to 1e-6 (tested; the port stays a test and benchmark dependency). Neither was validated
here against libjxl's C++ ``ssimulacra2`` tool: no packaged reference implementation exists here
(looked for: Debian bookworm's libjxl-tools / libjxl-devtools 0.7 ship ``ssimulacra_main``, i.e.
SSIMULACRA 1, not 2; on PyPI only this port and no wheel of the C++ tool). The port's blur follows the
C++ recursive Gaussian only approximately (an 11-tap FIR Gaussian, on transposed planes). Scale: 100 =
identical, 90 very high quality, 70 high, 50 medium, 30 low; strongly distorted images can go below 0.
Higher is better.
"""

from __future__ import annotations

import torch

from metrics.base import Metric
from metrics.functional.ssimulacra2 import MIN_SIDE, PreparedSSIMULACRA2, prepare_reference, ssimulacra2_prepared

SSIMULACRA2_MIN_SIZE = MIN_SIDE  # the port skips scales below 8 pixels; the first scale needs 8


class SSIMULACRA2(Metric):
    name = "ssimulacra2"
    unit = "score"
    higher_is_better = True
    value_range = (-100.0, 100.0)
    description = "SSIMULACRA 2 (equal to the PyPI port ssimulacra2 0.3.0 to 1e-6; not validated against libjxl's tool)"
    reference = (
        "PyPI ssimulacra2 0.3.0 (equal to 1e-6); not validated: no packaged reference ssimulacra2 here "
        "(Debian libjxl-devtools 0.7 has only SSIMULACRA 1's ssimulacra_main; PyPI has only this port)"
    )
    min_size = SSIMULACRA2_MIN_SIZE
    colour = "XYB"

    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        return self.score_many(self.prepare(reference), distorted)

    def prepare(self, reference: torch.Tensor) -> PreparedSSIMULACRA2:
        return prepare_reference(reference)

    def score_many(self, prepared: PreparedSSIMULACRA2, distorted: torch.Tensor) -> list[float]:
        return [float(v) for v in ssimulacra2_prepared(prepared, distorted)]
