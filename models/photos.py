"""Natural photos that ship inside installed wheels: the only images available offline here."""
from __future__ import annotations

import numpy as np

# Held out from training so the demo benchmark measures images the shipped models never saw.
DEMO_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
TRAINING_PHOTOS = ("hubble_deep_field", "immunohistochemistry", "retina", "brick", "grass", "gravel",
                   "camera", "china", "flower")


def _to_rgb(a: np.ndarray) -> np.ndarray:
    return np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a[..., :3]


def load_photo(name: str) -> np.ndarray:
    """One named photo as uint8 HxWx3 RGB (scikit-image, or scikit-learn's china/flower)."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return _to_rgb(load_sample_image(f"{name}.jpg"))
    import skimage.data

    loader = {"chelsea": skimage.data.chelsea}.get(name) or getattr(skimage.data, name)
    return np.ascontiguousarray(_to_rgb(loader()).astype(np.uint8))


def demo_photos() -> dict[str, np.ndarray]:
    """The four scikit-image photos used by the demo benchmark."""
    return {name: load_photo(name) for name in DEMO_PHOTOS}


def training_photos() -> dict[str, np.ndarray]:
    """Photos for the small training runs (those whose package is installed)."""
    out = {}
    for name in TRAINING_PHOTOS:
        try:
            out[name] = load_photo(name)
        except (ImportError, AttributeError):
            continue
    return out
