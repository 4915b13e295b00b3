"""Building blocks shared by the metrics (as ``piq.functional``): one Gaussian filter for all of them."""

from metrics.functional.filters import gaussian_filter, gaussian_window_1d

__all__ = ["gaussian_filter", "gaussian_window_1d"]
