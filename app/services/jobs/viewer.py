"""What the reconstruction viewer shows (issue 12): a result with its image, neighbours and error maps.

Error maps are PNGs computed on request and kept in blob storage under ``maps/``: ``abs`` (absolute
difference per channel, times ``ABS_GAIN`` so small errors are visible), ``ssim`` (1 - local SSIM, Gaussian
window sigma 1.5 as in Wang et al. 2004, by scikit-image's ``structural_similarity(full=True)``, mean over
RGB) and ``flip`` (NVIDIA FLIP's per-pixel error, ``metrics.flip.flip_error_map``), where 0 is black and
the largest possible error white."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image as PILImage
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.tables import Image, Result
from app.services.errors import Conflict, Invalid, NotSupported
from app.services.storage import LocalStorage, image_key

ABS_GAIN = 4
MAP_KINDS = ("abs", "ssim", "flip")


def neighbours(session: Session, result: Result) -> list[Result]:
    """Every result of the same job and image (all codecs and rate points), by codec then bpp."""
    return list(
        session.scalars(
            select(Result)
            .where(Result.job_id == result.job_id, Result.image_id == result.image_id)
            .order_by(Result.codec, Result.bpp)
        )
    )


def detail(session: Session, result: Result) -> dict:
    """The result, its image and the other reconstructions of that image in the job (for A/B comparison;
    ``nearest`` picks, per other codec, the one with the closest bpp)."""
    image = session.get_one(Image, result.image_id)
    others = neighbours(session, result)
    nearest: dict[str, int] = {}
    for other in others:
        if other.codec == result.codec:
            continue
        best = nearest.get(other.codec)
        if best is None or abs(other.bpp - result.bpp) < abs(next(o for o in others if o.id == best).bpp - result.bpp):
            nearest[other.codec] = other.id
    return {
        "id": result.id,
        "job_id": result.job_id,
        "codec": result.codec,
        "rate_point": result.rate_point,
        "bytes": result.bytes,
        "bpp": result.bpp,
        "encode_seconds": result.encode_seconds,
        "decode_seconds": result.decode_seconds,
        "metrics_seconds": result.metrics_seconds,
        "metrics": result.metrics,
        "metric_notes": result.metric_notes or {},
        "device": result.device,
        "image": {"id": image.id, "filename": image.filename, "width": image.width, "height": image.height},
        "original_url": f"/api/v1/images/{image.id}",
        "reconstruction_url": f"/api/v1/results/{result.id}/reconstruction",
        "maps": {kind: f"/api/v1/results/{result.id}/maps/{kind}" for kind in MAP_KINDS},
        "others": [
            {
                "id": o.id,
                "codec": o.codec,
                "rate_point": o.rate_point,
                "bpp": o.bpp,
                "nearest": nearest.get(o.codec) == o.id,
            }
            for o in others
            if o.id != result.id
        ],
    }


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(PILImage.open(io.BytesIO(data)).convert("RGB"))


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def compute_map(reference: np.ndarray, distorted: np.ndarray, kind: str) -> np.ndarray:
    """An 8-bit error map of ``distorted`` against ``reference`` (HxWx3 uint8): RGB for ``abs``, grey else."""
    if kind == "abs":
        diff = np.abs(reference.astype(np.int16) - distorted.astype(np.int16)) * ABS_GAIN
        return np.clip(diff, 0, 255).astype(np.uint8)
    if kind == "ssim":
        from skimage.metrics import structural_similarity

        if min(reference.shape[:2]) < 7:
            raise Invalid("the SSIM map needs images of at least 7x7 pixels")
        _, full = structural_similarity(
            reference,
            distorted,
            channel_axis=2,
            data_range=255,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            full=True,
        )
        error = 1.0 - full.mean(axis=2)
        return (np.clip(error, 0.0, 1.0) * 255).round().astype(np.uint8)
    if kind == "flip":
        try:
            from metrics.flip import flip_error_map

            error, _ = flip_error_map(reference, distorted)
        except ImportError:
            raise NotSupported("the FLIP map needs the flip-evaluator package") from None
        return (np.clip(error, 0.0, 1.0) * 255).round().astype(np.uint8)
    raise Invalid(f"unknown map {kind!r}; maps: {', '.join(MAP_KINDS)}")


def error_map_png(session: Session, storage: LocalStorage, result: Result, kind: str) -> bytes:
    """The PNG of one error map of ``result`` (computed once, then read from storage)."""
    if kind not in MAP_KINDS:
        raise Invalid(f"unknown map {kind!r}; maps: {', '.join(MAP_KINDS)}")
    key = f"maps/{result.job_id}/{result.id}-{kind}.png"
    if storage.exists(key):
        return storage.get(key)
    image = session.get_one(Image, result.image_id)
    reference = _pixels(storage.get(image_key(image.content_hash)))
    distorted = _pixels(storage.get(result.reconstruction_path))
    if reference.shape != distorted.shape:
        raise Conflict(
            f"reconstruction {result.id} is {distorted.shape[1]}x{distorted.shape[0]}, the original "
            f"{reference.shape[1]}x{reference.shape[0]}"
        )
    data = _png(compute_map(reference, distorted, kind))
    storage.put(key, data)
    return data
