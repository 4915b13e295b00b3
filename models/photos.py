"""Natural photos that ship inside installed wheels: the only images available offline here."""

from __future__ import annotations

import numpy as np

# Held out from training so the demo benchmark measures images the shipped models never saw.
DEMO_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
TRAINING_PHOTOS = (
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "brick",
    "grass",
    "gravel",
    "camera",
    "china",
    "flower",
)
# Neither trained on nor a demo photo: encoder-side settings (e.g. the refinement's step count) are chosen on
# it, so that they are picked on an unseen photo (as the encoder will meet) but not on the test set. Never
# used to train weights.
TUNING_PHOTOS = ("motorcycle_left",)


def _to_rgb(a: np.ndarray) -> np.ndarray:
    return np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a[..., :3]


def load_photo(name: str) -> np.ndarray:
    """One named photo as uint8 HxWx3 RGB (scikit-image, or scikit-learn's china/flower)."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return _to_rgb(load_sample_image(f"{name}.jpg"))
    import skimage.data

    loader = {"chelsea": skimage.data.chelsea, "motorcycle_left": lambda: skimage.data.stereo_motorcycle()[0]}.get(
        name
    ) or getattr(skimage.data, name)
    return np.ascontiguousarray(_to_rgb(loader()).astype(np.uint8))


def demo_photos() -> dict[str, np.ndarray]:
    """The four scikit-image photos used by the demo benchmark."""
    return {name: load_photo(name) for name in DEMO_PHOTOS}


def tuning_crops(size: int = 192) -> dict[str, np.ndarray]:
    """Four ``size`` x ``size`` tiles from the centre of each :data:`TUNING_PHOTOS` photo."""
    out = {}
    for name in TUNING_PHOTOS:
        photo = load_photo(name)
        top, left = photo.shape[0] // 2 - size, photo.shape[1] // 2 - size
        for i, (dy, dx) in enumerate(((0, 0), (0, size), (size, 0), (size, size))):
            out[f"{name}-{i}"] = np.ascontiguousarray(photo[top + dy : top + dy + size, left + dx : left + dx + size])
    return out


def training_photos() -> dict[str, np.ndarray]:
    """Photos for the small training runs (those whose package is installed)."""
    out = {}
    for name in TRAINING_PHOTOS:
        try:
            out[name] = load_photo(name)
        except (ImportError, AttributeError):
            continue
    return out
