"""Our own implementations equal the established ones they replace or wrap, on random images.

``ms-ssim`` keeps piq's semantics (RGB, channel mean, piq's odd-size padding) while reusing the
reference's statistics across a batch; ``ssim`` is Wang's SSIM on 8-bit grey; ``psnr-y`` is
PSNR of BT.601 luma; ``vifp``/``fsim``/``haarpsi`` are re-implemented (separable filters, reference
work done once per batch) to piq's definitions and must give piq's values.
"""

from __future__ import annotations

import math

import numpy as np
import piq
import pytest
import torch

from metrics.colour import gray8, luma
from metrics.registry import create_metric

torch.set_num_threads(1)


def _pair(h: int, w: int, n: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (1, 3, h // 4 + 1, w // 4 + 1)).astype(np.float32)
    ref = torch.nn.functional.interpolate(torch.from_numpy(base), size=(h, w), mode="bilinear").round()
    sigmas = torch.tensor([4.0, 12, 30][:n]).view(n, 1, 1, 1)
    noise = torch.from_numpy(rng.normal(0, 1, (n, 3, h, w)).astype(np.float32)) * sigmas
    dist = (ref + noise).round().clamp(0, 255)
    return ref / 255, dist / 255


@pytest.mark.parametrize("size", [(161, 161), (192, 256), (173, 211)])
def test_ms_ssim_equals_piq_including_odd_sizes(size):
    ref, dist = _pair(*size)
    ours = create_metric("ms-ssim").compute(ref, dist)
    theirs = piq.multi_scale_ssim(dist, ref.expand_as(dist), data_range=1.0, reduction="none")
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_ssim_is_wang_ssim_on_8bit_grey_as_piq_computes_it():
    ref, dist = _pair(96, 128)
    ours = create_metric("ssim").compute(ref, dist)
    g_ref, g_dist = gray8(ref), gray8(dist)
    theirs = piq.ssim(g_dist, g_ref.expand_as(g_dist), data_range=1.0, reduction="none", downsample=False)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_grey_conversion_is_matlab_rgb2gray_rounded_to_8_bits():
    pixels = torch.tensor([[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 200, 37]], dtype=torch.float32)
    rgb = (pixels / 255).T.reshape(1, 3, 1, 4)
    expected = [
        round(0.298936021293775 * r + 0.587043074451121 * g + 0.114020904255103 * b) for r, g, b in pixels.tolist()
    ]
    assert (gray8(rgb) * 255).round().flatten().tolist() == expected  # [76, 150, 29, 127]


def test_psnr_y_is_psnr_of_bt601_luma():
    ref, dist = _pair(64, 48)
    ours = create_metric("psnr-y").compute(ref, dist)
    for value, d in zip(ours, dist):
        mse = float(((luma(d[None].double()) - luma(ref.double())) ** 2).mean())
        assert value == pytest.approx(10 * math.log10(1 / mse), abs=1e-4)


@pytest.mark.parametrize("size", [(64, 96), (45, 67)])
@pytest.mark.parametrize(
    "name, piq_fn",
    [
        ("vifp", lambda d, r: piq.vif_p(d, r, data_range=1.0, reduction="none")),
        ("fsim", lambda d, r: piq.fsim(d, r, data_range=1.0, reduction="none", chromatic=True)),
        ("haarpsi", lambda d, r: piq.haarpsi(d, r, data_range=1.0, reduction="none")),
    ],
)
def test_metrics_defined_by_piq_equal_piq_for_each_image_of_a_batch(name, piq_fn, size):
    ref, dist = _pair(*size)
    ours = create_metric(name).compute(ref, dist)
    # piq in float64, one image at a time (float32 piq carries ~1e-5 cancellation noise in VIFp)
    alone = [float(piq_fn(d[None].double(), ref.double())) for d in dist]
    np.testing.assert_allclose(ours, alone, rtol=1e-5)
    assert len(set(round(v, 5) for v in ours)) == 3


def test_quality_falls_as_noise_grows_for_every_local_metric():
    ref, dist = _pair(176, 176)
    for name in ("psnr", "psnr-y", "ssim", "ms-ssim", "ms-ssim-y", "vif", "vifp", "fsim", "gmsd", "haarpsi"):
        metric = create_metric(name)
        values = metric.compute(ref, dist)
        ordered = values if metric.higher_is_better else [-v for v in values]
        assert ordered[0] > ordered[1] > ordered[2], (name, values)


def test_vifp_equals_piq_on_images_with_flat_regions_and_odd_sizes():
    ref, dist = _pair(67, 93)
    ref[..., :, :40] = 0.5  # a flat reference region exercises the zero-variance guards
    dist[1:, :, :, 50:] = 0.25  # and flat distorted regions
    ours = create_metric("vifp").compute(ref, dist)
    # piq in float64: in float32 its flat-region tests run into cancellation noise (ours centres first)
    theirs = piq.vif_p(dist.double(), ref.expand_as(dist).double(), data_range=1.0, reduction="none")
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-4)
