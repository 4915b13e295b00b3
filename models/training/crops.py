"""Random-crop batches from a handful of in-memory photos, with the augmentations of learned-codec training.

* multi-scale crops: a window of ``crop / s`` pixels is cut and resized (antialiased bilinear) to ``crop``,
  ``s`` drawn log-uniformly in ``[min_scale, 1]`` (never below what the photo's size allows); this is the
  random downscaling DIV2K/CLIC training pipelines apply, which also removes sensor noise and JPEG blocking;
* horizontal flips, and with ``rotate`` the 90-degree rotations (the 8 dihedral transforms);
* with ``colour``, on colour photos only: a random permutation of the RGB channels and a saturation scale
  (``colour_jitter`` = maximum relative change) around the photo's luma; greyscale photos stay grey;
* with ``tone_jitter`` = t > 0: a random gamma in ``[1/(1+t), 1+t]`` (log-uniform) and a contrast scale in
  ``[1-t/2, 1+t/2]`` around the patch mean, on every photo: the training photos span few exposures;
* with ``mosaic`` = p > 0: with probability p a patch is a dead-leaves mosaic of the training photos (Matheron's
  model as used for synthetic restoration training, Achddou et al. 2021, "Synthetic images as a regularity
  prior for image restoration neural networks"): discs with power-law radii, each filled with another random
  crop of a training photo, pasted over a base crop. This gives the occlusion edges between unlike textures
  that real scenes have and the nine training photos (mostly single textures) lack; every pixel still comes
  from a training photo, so no new photo enters training;
* ``weights``: relative sampling probability of each photo (e.g. colour photos more often).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import IterableDataset, get_worker_info

# BT.601 luma weights, used to scale saturation around the grey level of each pixel.
LUMA = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
PERMUTATIONS = ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0))


def is_colour(image: np.ndarray) -> bool:
    """True when the channels of a uint8 HxWx3 image are not all equal (a greyscale photo repeated to RGB)."""
    return not (np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2]))


class RandomCrops:
    """Endless random crops (flips always; scaling, rotations and colour changes when asked)."""

    def __init__(
        self,
        images: list[np.ndarray],
        crop: int,
        seed: int = 0,
        weights: list[float] | None = None,
        min_scale: float = 1.0,
        rotate: bool = False,
        colour: bool = False,
        colour_jitter: float = 0.3,
        tone_jitter: float = 0.0,
        mosaic: float = 0.0,
        mosaic_discs: int = 6,
    ) -> None:
        if weights is not None and len(weights) != len(images):
            raise ValueError("one weight per image is needed")
        keep = [i for i, im in enumerate(images) if min(im.shape[:2]) >= crop]
        if not keep:
            raise ValueError(f"no training image is at least {crop}x{crop}")
        if not 0 < min_scale <= 1:
            raise ValueError("min_scale must be in (0, 1]")
        if not 0 <= tone_jitter < 1:
            raise ValueError("tone_jitter must be in [0, 1)")
        if not 0 <= mosaic <= 1:
            raise ValueError("mosaic is a probability in [0, 1]")
        if mosaic_discs < 1:
            raise ValueError("mosaic_discs must be at least 1")
        self.images = [torch.from_numpy(np.array(images[i], dtype=np.uint8, copy=True)).permute(2, 0, 1) for i in keep]
        self.colour_image = [is_colour(images[i]) for i in keep]
        w = np.asarray([1.0 if weights is None else float(weights[i]) for i in keep])
        if (w < 0).any() or w.sum() <= 0:
            raise ValueError("photo weights must be non-negative and not all zero")
        self.p = w / w.sum()
        self.crop = crop
        self.min_scale = float(min_scale)
        self.rotate = rotate
        self.colour = colour
        self.colour_jitter = float(colour_jitter)
        self.tone_jitter = float(tone_jitter)
        self.mosaic = float(mosaic)
        self.mosaic_discs = int(mosaic_discs)
        self.rng = np.random.default_rng(seed)

    def _patch(self) -> torch.Tensor:
        # the rng is only drawn for the options switched on, so older configs keep their exact crop stream
        if self.mosaic and self.rng.random() < self.mosaic:
            return self._mosaic()
        return self._one()

    def _mosaic(self) -> torch.Tensor:
        """A base crop with ``1..mosaic_discs`` discs of other crops on top (dead leaves, radius density ~ r^-3)."""
        canvas = self._one()
        size = self.crop
        # anti-aliased disc masks: coverage from a 4x supersampled grid, as a lens would blur an occlusion edge
        fine = (torch.arange(4 * size, dtype=torch.float32) + 0.5) / 4
        r_min, r_max = size / 16, size / 2
        for _ in range(int(self.rng.integers(1, self.mosaic_discs + 1))):
            # inverse CDF of p(r) ~ r^-3 on [r_min, r_max] (scale-invariant dead leaves)
            u = self.rng.random()
            radius = (r_min**-2 - u * (r_min**-2 - r_max**-2)) ** -0.5
            cy, cx = self.rng.uniform(-radius / 2, size + radius / 2, size=2)
            fill = self._one()
            # only the pixels of the disc's bounding box can be covered: the mask is computed there alone
            # (the same values as over the whole crop; 4x4 blocks are pooled independently)
            y0, y1 = max(0, math.floor(cy - radius)), min(size, math.ceil(cy + radius) + 1)
            x0, x1 = max(0, math.floor(cx - radius)), min(size, math.ceil(cx + radius) + 1)
            if y0 >= y1 or x0 >= x1:
                continue
            ys, xs = fine[4 * y0 : 4 * y1], fine[4 * x0 : 4 * x1]
            inside = ((ys[:, None] - cy) ** 2 + (xs[None, :] - cx) ** 2 <= radius**2).float()
            cover = F.avg_pool2d(inside[None, None], 4)[0]
            window = canvas[:, y0:y1, x0:x1]
            canvas[:, y0:y1, x0:x1] = cover * fill[:, y0:y1, x0:x1] + (1 - cover) * window
        return canvas.mul(255.0).round().div(255.0)

    def _one(self) -> torch.Tensor:
        i = int(self.rng.choice(len(self.images), p=self.p))
        im = self.images[i]
        h, w = im.shape[1:]
        # smallest allowed scale: the window crop/s must fit inside the photo
        lowest = max(self.min_scale, self.crop / min(h, w))
        scale = math.exp(self.rng.uniform(math.log(lowest), 0.0)) if lowest < 1 else 1.0
        size = min(min(h, w), int(round(self.crop / scale)))
        top = int(self.rng.integers(h - size + 1))
        left = int(self.rng.integers(w - size + 1))
        patch = im[:, top : top + size, left : left + size].float().div(255.0)
        if size != self.crop:
            patch = F.interpolate(
                patch[None], size=(self.crop, self.crop), mode="bilinear", antialias=True, align_corners=False
            )[0].clamp(0, 1)
        if self.rng.random() < 0.5:
            patch = patch.flip(-1)
        if self.rotate:
            patch = torch.rot90(patch, int(self.rng.integers(4)), dims=(1, 2))
        if self.colour and self.colour_image[i]:
            patch = patch[list(PERMUTATIONS[int(self.rng.integers(6))])]
            factor = 1.0 + self.rng.uniform(-self.colour_jitter, self.colour_jitter)
            grey = (patch * LUMA).sum(0, keepdim=True)
            patch = (grey + factor * (patch - grey)).clamp(0, 1)
        if self.tone_jitter:
            t = self.tone_jitter
            gamma = math.exp(self.rng.uniform(-math.log1p(t), math.log1p(t)))
            contrast = 1.0 + self.rng.uniform(-t / 2, t / 2)
            patch = patch.pow(gamma)  # patch is already in [0, 1]
            patch = (patch.mean() + contrast * (patch - patch.mean())).clamp(0, 1)
        # back to the 8-bit grid: the codec always sees 8-bit images
        return patch.mul(255.0).round().div(255.0)

    def batch(self, size: int) -> torch.Tensor:
        """A float batch (size,3,crop,crop) in [0, 1]."""
        return torch.stack([self._patch() for _ in range(size)]).contiguous()


class CropStream(IterableDataset):
    """Endless batches of :class:`RandomCrops` for a ``DataLoader`` with worker processes, as uint8 codes
    (``codes.float() / 255`` is the float batch, bit for bit): each worker draws from its own generator,
    seeded by ``seed`` and the worker's index (the copies would repeat each other)."""

    def __init__(self, crops: RandomCrops, batch_size: int, seed: tuple[int, ...] = (0,)) -> None:
        self.crops = crops
        self.batch_size = int(batch_size)
        self.seed = tuple(int(v) for v in seed)

    def __iter__(self) -> Iterator[torch.Tensor]:
        info = get_worker_info()
        worker = 0 if info is None else info.id
        torch.set_num_threads(1)  # one core per worker: the workers are the parallelism
        self.crops.rng = np.random.default_rng([*self.seed, worker])
        while True:
            # as uint8 codes: a quarter of the shared memory per batch, and exact (crops lie on the 8-bit grid)
            yield self.crops.batch(self.batch_size).mul(255.0).round().to(torch.uint8)
