"""Study crops: one square region per source image, the same for every condition of that image.

The region is the most detailed window of the original (largest summed squared gradient), where coding
artefacts show most; ties go to the window nearest the centre.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

CropBox = tuple[int, int, int, int]  # left, top, width, height


def decode_png(data: bytes) -> np.ndarray:
    """RGB uint8 array of stored PNG bytes."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def encode_png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def detailed_region(reference: np.ndarray, side: int | None) -> CropBox:
    """The square window of ``side`` pixels with the most gradient energy in ``reference`` (H x W x 3).

    ``side`` None, or an image that already fits in ``side`` x ``side``, gives the whole image; a side
    larger than the shorter image edge is reduced to that edge.
    """
    height, width = reference.shape[:2]
    if side is None or (width <= side and height <= side):
        return 0, 0, width, height
    side = min(side, width, height)
    grey = reference.astype(np.float64).mean(axis=2)
    energy = np.zeros_like(grey)
    energy[:, 1:] += np.diff(grey, axis=1) ** 2
    energy[1:, :] += np.diff(grey, axis=0) ** 2
    integral = np.pad(energy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    stride = max(1, side // 8)
    tops = sorted(set(range(0, height - side + 1, stride)) | {height - side})
    lefts = sorted(set(range(0, width - side + 1, stride)) | {width - side})
    top_index, left_index = np.meshgrid(np.array(tops), np.array(lefts), indexing="ij")
    sums = (
        integral[top_index + side, left_index + side]
        - integral[top_index, left_index + side]
        - integral[top_index + side, left_index]
        + integral[top_index, left_index]
    )
    centre_distance = np.hypot(top_index + side / 2 - height / 2, left_index + side / 2 - width / 2)
    order = np.lexsort((centre_distance.ravel(), -sums.ravel()))
    best = order[0]
    return int(left_index.ravel()[best]), int(top_index.ravel()[best]), side, side


def cut(pixels: np.ndarray, box: CropBox) -> np.ndarray:
    left, top, width, height = box
    if pixels.shape[0] < top + height or pixels.shape[1] < left + width:
        raise ValueError(f"crop {box} does not fit an image of {pixels.shape[1]}x{pixels.shape[0]}")
    return np.ascontiguousarray(pixels[top : top + height, left : left + width])
