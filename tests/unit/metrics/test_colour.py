"""The shared colour conversions: the fast in-place ``gray8`` keeps MATLAB rgb2gray's exact values."""

import torch

from metrics.colour import MATLAB_RGB2GRAY, gray8, luma


def test_gray8_equals_rounded_float64_luma_for_every_8bit_colour():
    levels = torch.arange(256, dtype=torch.float32).div(255.0)
    g, b = torch.meshgrid(levels, levels, indexing="ij")
    for red in range(256):
        rgb = torch.stack([torch.full_like(g, float(levels[red])), g, b]).unsqueeze(0)
        expected = torch.round(luma(rgb.double(), MATLAB_RGB2GRAY) * 255.0).div(255.0).float()
        assert torch.equal(gray8(rgb), expected), f"red = {red}"


def test_gray8_keeps_batch_and_dtype():
    rgb = torch.randint(0, 256, (3, 3, 5, 7)).float().div(255.0)
    out = gray8(rgb)
    assert out.shape == (3, 1, 5, 7) and out.dtype == torch.float32
    assert torch.equal(out[1:2], gray8(rgb[1:2]))
