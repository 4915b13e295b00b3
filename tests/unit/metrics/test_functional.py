"""The one Gaussian filter: separable rows-then-columns equals the 2-D fspecial window, 'valid' region."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from metrics.functional import gaussian_filter, gaussian_window_1d


def test_window_is_the_normalised_sampled_gaussian():
    window = gaussian_window_1d(11, 1.5, dtype=torch.float64)
    expected = torch.tensor([math.exp(-((i - 5) ** 2) / (2 * 1.5**2)) for i in range(11)], dtype=torch.float64)
    assert torch.allclose(window, expected / expected.sum())
    assert torch.equal(window, window.flip(0))


def test_separable_filter_equals_the_2d_window_on_the_valid_region():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 23, 30, dtype=torch.float64)
    window = gaussian_window_1d(7, 1.4, dtype=torch.float64)
    kernel = torch.outer(window, window).expand(3, 1, 7, 7)
    assert torch.allclose(gaussian_filter(x, window), F.conv2d(x, kernel, groups=3))
    assert torch.allclose(gaussian_filter(x, window, stride=2), F.conv2d(x, kernel, groups=3, stride=2))
    assert gaussian_filter(x, window).shape == (2, 3, 17, 24)
