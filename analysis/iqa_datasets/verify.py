"""Decoding every image an index names (slow for thousands: the app runs it in the background)."""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from analysis.iqa_datasets.base import DatasetIndex
from models.image_errors import PIL_DECODE_ERRORS


def verify_images(
    index: DatasetIndex, *, progress: Callable[[int, int], None] | None = None, max_problems: int = 20
) -> list[str]:
    """Problems found: images that do not decode, and distorted images whose size differs from their
    reference's. An empty list means every image decoded. Stops collecting after ``max_problems``."""
    problems: list[str] = []
    sizes: dict[str, tuple[int, int]] = {}
    paths = index.image_paths()
    for done, relative in enumerate(paths, 1):
        try:
            with Image.open(index.root / relative) as image:
                image.load()
                sizes[relative] = image.size
        except PIL_DECODE_ERRORS as exc:
            problems.append(f"{relative} does not decode: {exc}")
            if len(problems) >= max_problems:
                break
        if progress is not None:
            progress(done, len(paths))
    for d in index.distorted:
        if len(problems) >= max_problems:
            break
        if d.path in sizes and d.reference in sizes and sizes[d.path] != sizes[d.reference]:
            problems.append(
                f"{d.path} is {sizes[d.path][0]}x{sizes[d.path][1]} but its reference {d.reference} "
                f"is {sizes[d.reference][0]}x{sizes[d.reference][1]}"
            )
    for t in index.triplets:
        if len(problems) >= max_problems:
            break
        for p in (t.a, t.b):
            if p in sizes and t.original in sizes and sizes[p] != sizes[t.original]:
                problems.append(f"{p} differs in size from its original {t.original}")
    return problems
