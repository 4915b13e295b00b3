"""Random-crop batches from a handful of in-memory photos."""
from __future__ import annotations

import numpy as np
import torch


class RandomCrops:
    """Endless random crops (with horizontal flips) from a list of uint8 HxWx3 images."""

    def __init__(self, images: list[np.ndarray], crop: int, seed: int = 0) -> None:
        usable = [im for im in images if min(im.shape[:2]) >= crop]
        if not usable:
            raise ValueError(f"no training image is at least {crop}x{crop}")
        self.images = [torch.from_numpy(np.array(im, dtype=np.uint8, copy=True)).permute(2, 0, 1) for im in usable]
        self.crop = crop
        self.rng = np.random.default_rng(seed)

    def batch(self, size: int) -> torch.Tensor:
        """A float batch (size,3,crop,crop) in [0, 1]."""
        out = []
        for _ in range(size):
            im = self.images[self.rng.integers(len(self.images))]
            top = self.rng.integers(im.shape[1] - self.crop + 1)
            left = self.rng.integers(im.shape[2] - self.crop + 1)
            patch = im[:, top : top + self.crop, left : left + self.crop]
            if self.rng.random() < 0.5:
                patch = patch.flip(-1)
            out.append(patch)
        return torch.stack(out).float().div(255.0)
