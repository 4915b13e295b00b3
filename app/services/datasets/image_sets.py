"""Create and read image sets. All files are validated before anything is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.tables import Image, ImageSet
from app.services.datasets.image_normalization import normalize_image
from app.services.errors import Invalid, NotFound
from app.services.operations.deletion import remove_files
from app.services.storage import BlobStorage, image_key
from app.settings import get_settings


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def create_image_set(session: Session, storage: BlobStorage, name: str, uploads: Sequence[Upload]) -> ImageSet:
    """Validate every upload, then store pixels and rows; a rejected request stores nothing."""
    settings = get_settings()
    name = (name or "").strip()
    if not name:
        raise Invalid("field 'name' must not be empty")
    if len(name) > 200:
        raise Invalid("field 'name' is longer than 200 characters")
    if not uploads:
        raise Invalid("no files uploaded: send one or more images in the 'files' field")
    if len(uploads) > settings.max_files_per_upload:
        raise Invalid(f"too many files ({len(uploads)}); the limit is {settings.max_files_per_upload}")
    normalized = [normalize_image(u.filename, u.data, settings.max_image_pixels) for u in uploads]
    image_set = ImageSet(name=name)
    session.add(image_set)
    written: list[str] = []
    try:
        _add_images(image_set, storage, uploads, normalized, written)
        session.flush()
    except BaseException:  # e.g. the disk filled up (OSError ENOSPC): the files this request wrote go too
        remove_files(storage, written)  # (the caller's session is rolled back as the error propagates)
        raise
    return image_set


def _add_images(
    image_set: ImageSet, storage: BlobStorage, uploads: Sequence[Upload], normalized: list, written: list[str]
) -> None:
    for upload, norm in zip(uploads, normalized):
        key = image_key(norm.content_hash)
        if not storage.exists(key):  # content-addressed: identical pixels are stored once
            storage.put(key, norm.png)
            written.append(key)
        image_set.images.append(
            Image(
                filename=upload.filename[:255],
                content_hash=norm.content_hash,
                width=int(norm.pixels.shape[1]),
                height=int(norm.pixels.shape[0]),
                original_format=norm.original_format,
                original_mode=norm.original_mode,
                conversion=norm.conversion,
            )
        )


def get_image_set(session: Session, image_set_id: int) -> ImageSet:
    image_set = session.get(ImageSet, image_set_id)
    if image_set is None:
        raise NotFound(f"image set {image_set_id} does not exist")
    return image_set


def get_image(session: Session, image_id: int) -> Image:
    image = session.get(Image, image_id)
    if image is None:
        raise NotFound(f"image {image_id} does not exist")
    return image


def list_image_sets(session: Session, limit: int | None = None, offset: int = 0) -> list[ImageSet]:
    """Image sets, newest first; ``limit``/``offset`` select one page."""
    return list(session.scalars(select(ImageSet).order_by(ImageSet.id.desc()).limit(limit).offset(offset)))
