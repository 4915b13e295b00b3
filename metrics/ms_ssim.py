"""MS-SSIM now lives in ``metrics.ssim`` with SSIM; these names stay importable from here."""
from metrics.ssim import MS_SSIM_MIN_SIZE, MSSSIM

__all__ = ["MS_SSIM_MIN_SIZE", "MSSSIM"]
