"""VIF: Visual Information Fidelity in the wavelet domain (Sheikh and Bovik, IEEE TIP 15(2), 2006).

The index the literature means by "VIF", as computed by the authors' ``vifvec.m`` (LIVE's
vifvec_release): the grey image (MATLAB ``rgb2gray`` on 8-bit RGB, 0..255) is decomposed by a
4-level, 6-orientation steerable pyramid (``sp5Filters``, ``reflect1`` edges; built here by
``pyrtools``, the Python port of the same matlabPyrTools the authors used); eight subbands, two
orientations per level, are modelled as a Gaussian scale mixture over 3x3 blocks
(M = 3, sigma_n^2 = 0.4), with the distortion channel ``dist = g * ref + v`` estimated in
box windows of 2^lev + 1 taps on the block grid, and

    VIF = sum_subbands sum_blocks sum_eig log2(1 + g^2 s^2 lambda / (sigma_v^2 + sigma_n^2))
        / sum_subbands sum_blocks sum_eig log2(1 + s^2 lambda / sigma_n^2).

Checked against the official values on pyiqa's calibration pairs (within 1%, see
tests/unit/metrics/test_vif.py). The reference's pyramid, GSM parameters and the
denominator are computed once per batch. The pixel-domain variant is ``vifp`` (metrics/vifp.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from metrics.base import Metric, MetricAvailability
from metrics.colour import gray8

BLOCK = 3  # M: GSM neighbourhood (M x M coefficients)
SIGMA_N_SQ = 0.4  # visual noise variance, vifvec.m
PYRAMID_HEIGHT = 4
ORIENTATIONS = 6
# vifvec.m's subbands 4, 7, ..., 25 of the coarse-to-fine wavelet tree: per pyramid level, the
# orientations 3 and 0 of pyrtools' numbering; window 2^lev + 1 taps with lev 1 at the coarsest.
SUBBANDS = tuple((level, band) for level in (3, 2, 1, 0) for band in (3, 0))
_TOL = 1e-15  # vifvec.m's tolerance for zero variance
# The smallest image for which a 4-level sp5 pyramid exists (matlabPyrTools' maxPyrHt).
VIF_MIN_SIZE = 72


def _window_size(level: int) -> int:
    """Box window of ``2^lev + 1`` taps, lev = 1 on the coarsest level (``vifvec.m``)."""
    return 2 ** (PYRAMID_HEIGHT - level) + 1


def _crop_to_blocks(band: np.ndarray) -> np.ndarray:
    h, w = band.shape
    return band[: h // BLOCK * BLOCK, : w // BLOCK * BLOCK]


def steerable_pyramid(image: np.ndarray) -> dict:
    """The sp5 steerable pyramid of a grey float64 image (matlabPyrTools ``buildSpyr`` via pyrtools)."""
    from pyrtools.pyramids import SteerablePyramidSpace

    return SteerablePyramidSpace(image, height=PYRAMID_HEIGHT, order=ORIENTATIONS - 1, edge_type="reflect1").pyr_coeffs


def _box_sums(band: np.ndarray, size: int) -> np.ndarray:
    """Sums over ``size x size`` windows centred on each block centre (corrDn, reflect1, step M)."""
    from pyrtools.pyramids.c.wrapper import corrDn

    h, w = band.shape
    start = (BLOCK // 2, BLOCK // 2)
    stop = (h - (BLOCK + 1) // 2 + 1, w - (BLOCK + 1) // 2 + 1)
    return corrDn(band, np.ones((size, size)), edge_type="reflect1", step=(BLOCK, BLOCK), start=start, stop=stop)


@dataclass(frozen=True)
class _ReferenceBand:
    """Reference-side GSM parameters of one subband: coefficients, s^2 per block, eigenvalues."""

    coefficients: np.ndarray
    sum_x: np.ndarray
    sum_xx: np.ndarray
    s_sq: np.ndarray
    eigenvalues: np.ndarray
    window: int


def _gsm_parameters(band: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """s^2 per non-overlapping M x M block and the eigenvalues of the neighbourhood covariance
    (``refparams_vecgsm`` in vifvec.m)."""
    h, w = band.shape
    m = BLOCK
    # Every M x M neighbourhood (sliding), as vectors of M*M coefficients.
    sliding = np.stack([band[k : h - m + k + 1, j : w - m + j + 1].ravel() for j in range(m) for k in range(m)])
    centred = sliding - sliding.mean(axis=1, keepdims=True)
    covariance = centred @ centred.T / sliding.shape[1]
    blocks = np.stack([band[k::m, j::m].ravel() for j in range(m) for k in range(m)])
    # The pseudo-inverse, as pyiqa does: a flat subband has a singular covariance (VIF is then undefined).
    s_sq = np.sum((np.linalg.pinv(covariance) @ blocks) * blocks, axis=0) / (m * m)
    return s_sq.reshape(h // m, w // m), np.linalg.eigvalsh(covariance)


def reference_bands(reference_grey: np.ndarray) -> list[_ReferenceBand]:
    """The reference-side work of VIF, done once for a batch of distorted images."""
    pyramid = steerable_pyramid(reference_grey)
    bands = []
    for level, orientation in SUBBANDS:
        coefficients = _crop_to_blocks(pyramid[(level, orientation)])
        size = _window_size(level)
        s_sq, eigenvalues = _gsm_parameters(coefficients)
        bands.append(
            _ReferenceBand(
                coefficients,
                _box_sums(coefficients, size),
                _box_sums(coefficients * coefficients, size),
                s_sq,
                eigenvalues,
                size,
            )
        )
    return bands


def _crop_offset(array: np.ndarray, window: int) -> np.ndarray:
    offset = int(np.ceil((window - 1) / 2 / BLOCK))
    return array[offset : array.shape[0] - offset, offset : array.shape[1] - offset] if offset else array


def _information(reference: list[_ReferenceBand], distorted_grey: np.ndarray | None, sigma_n_sq: float) -> float:
    """Sum over subbands of the information the distorted image carries (numerator); with
    ``distorted_grey=None`` the reference's own information (denominator)."""
    pyramid = steerable_pyramid(distorted_grey) if distorted_grey is not None else None
    total = 0.0
    for (level, orientation), ref in zip(SUBBANDS, reference):
        s_sq = _crop_offset(ref.s_sq, ref.window)
        if pyramid is None:
            gain_sq, noise = np.ones_like(s_sq), np.zeros_like(s_sq)
        else:
            gain, noise = _distortion_channel(ref, _crop_to_blocks(pyramid[(level, orientation)]))
            gain_sq, noise = _crop_offset(gain, ref.window) ** 2, _crop_offset(noise, ref.window)
        for eigenvalue in ref.eigenvalues:
            total += float(np.sum(np.log2(1.0 + gain_sq * s_sq * eigenvalue / (noise + sigma_n_sq))))
    return total


def _distortion_channel(ref: _ReferenceBand, distorted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gain g and noise variance sigma_v^2 of ``distorted = g * reference + v`` per block
    (``vifsub_est_M`` in vifvec.m, including its guards for flat regions and negative gains)."""
    n = ref.window * ref.window
    sum_y = _box_sums(distorted, ref.window)
    mean_x, mean_y = ref.sum_x / n, sum_y / n
    cov_xy = _box_sums(ref.coefficients * distorted, ref.window) - n * mean_x * mean_y
    ss_x = ref.sum_xx - n * mean_x * mean_x
    ss_y = _box_sums(distorted * distorted, ref.window) - n * mean_y * mean_y
    g = cov_xy / (ss_x + _TOL)
    vv = (ss_y - g * cov_xy) / n
    flat_x = ss_x < _TOL
    g[flat_x] = 0.0
    vv[flat_x] = ss_y[flat_x]
    flat_y = ss_y < _TOL
    g[flat_y] = 0.0
    vv[flat_y] = 0.0
    negative = g < 0
    vv[negative] = ss_y[negative]
    g[negative] = 0.0
    vv[vv < _TOL] = _TOL
    return g, vv


def vif(reference_grey: np.ndarray, distorted_grey: list[np.ndarray], sigma_n_sq: float = SIGMA_N_SQ) -> list[float]:
    """Wavelet-domain VIF of each grey ``distorted`` image (H,W float, 0..255) against the grey
    ``reference`` (Sheikh and Bovik 2006; the authors' ``vifvec.m``). Higher is better; 1 for an
    identical image, above 1 for contrast enhancement;
    NaN where the reference is flat (no information to preserve)."""
    return vif_prepared(vif_reference(reference_grey, sigma_n_sq), distorted_grey, sigma_n_sq)


def vif_reference(reference_grey: np.ndarray, sigma_n_sq: float = SIGMA_N_SQ) -> tuple[list[_ReferenceBand], float]:
    """The reference side of :func:`vif`: its subbands' GSM parameters and the denominator."""
    reference = reference_bands(np.asarray(reference_grey, dtype=np.float64))
    return reference, _information(reference, None, sigma_n_sq)


def vif_prepared(
    prepared: tuple[list[_ReferenceBand], float], distorted_grey: list[np.ndarray], sigma_n_sq: float = SIGMA_N_SQ
) -> list[float]:
    """:func:`vif` against a reference prepared by :func:`vif_reference`."""
    reference, denominator = prepared
    if denominator <= 0.0:  # a flat reference carries no information: VIF is 0/0
        return [float("nan")] * len(distorted_grey)
    return [_information(reference, np.asarray(d, dtype=np.float64), sigma_n_sq) / denominator for d in distorted_grey]


class VIF(Metric):
    name = "vif"
    unit = "index"
    reference = "Sheikh and Bovik 2006, the authors' vifvec.m: official values on pyiqa's calibration pairs, within 1%"
    higher_is_better = True
    value_range = (0.0, 1.0)  # can exceed 1 for contrast-enhanced images
    description = (
        "VIF (Sheikh and Bovik 2006): wavelet-domain Visual Information Fidelity, steerable "
        "pyramid and GSM, as the authors' vifvec.m, on MATLAB rgb2gray luma"
    )
    min_size = VIF_MIN_SIZE
    colour = "luma"

    def availability(self) -> MetricAvailability:
        try:
            import pyrtools  # noqa: F401
        except ImportError:
            return MetricAvailability(False, "the pyrtools package (steerable pyramid) is not installed")
        return MetricAvailability(True)

    def compute(self, reference: torch.Tensor, distorted: torch.Tensor) -> list[float]:
        return self.score_many(self.prepare(reference), distorted)

    def prepare(self, reference: torch.Tensor) -> tuple[list[_ReferenceBand], float]:
        return vif_reference((gray8(reference)[0, 0].double() * 255.0).numpy())

    def score_many(self, prepared: tuple[list[_ReferenceBand], float], distorted: torch.Tensor) -> list[float]:
        return vif_prepared(prepared, [(gray8(d[None])[0, 0].double() * 255.0).numpy() for d in distorted])
