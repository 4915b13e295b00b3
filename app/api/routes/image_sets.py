"""Image set upload and listing."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import func, select

from app.api.deps import CurrentUser, OptionalUser, Pagination, SessionDep, StorageDep
from app.api.rate_limits import UploadingUser
from app.api.schemas import ImageSetOut
from app.api.uploads import read_limited
from app.db.tables import ImageSet
from app.services.accounts import auth
from app.services.datasets import image_sets
from app.services.datasets.image_sets import Upload
from app.services.errors import Invalid
from app.services.operations import deletion
from app.services.storage import image_key
from app.settings import get_settings

router = APIRouter(prefix="/api/v1/image-sets", tags=["image sets"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ImageSetOut)
def create_image_set(
    user: UploadingUser,  # signed in and within UPLOADS_PER_MINUTE (429 otherwise)
    session: SessionDep,
    blob_storage: StorageDep,
    name: str = Form(...),
    files: list[UploadFile] = File(...),
    visibility: str = Form(auth.PRIVATE, description="private (owner and admins; default) or public (everyone)"),
) -> ImageSet:
    """Upload images (PNG, JPEG, WebP, BMP, TIFF). Every file becomes 8-bit RGB: alpha composited on white,
    grayscale repeated to 3 channels, 16-bit scaled by v/257, CMYK converted without ICC, EXIF orientation
    applied. Any bad file rejects the whole request and nothing is stored. Needs a user; the set is theirs.
    A sync route: FastAPI runs it in its thread pool, so decoding and the database writes never block the event
    loop; the 201 is sent only after the commit."""
    if visibility not in auth.VISIBILITIES:
        raise Invalid(f"field 'visibility' must be one of {', '.join(auth.VISIBILITIES)}")
    limit = get_settings().max_upload_bytes
    uploads = [Upload(f.filename or "upload", read_limited(f, limit)) for f in files]
    image_set = image_sets.create_image_set(session, blob_storage, name, uploads)
    image_set.owner_id, image_set.visibility = user.id, visibility
    session.commit()  # visible to the next request (the page it redirects to) before this answer is sent
    return image_set


@router.get("", response_model=list[ImageSetOut])
def list_image_sets(session: SessionDep, page: Pagination, user: OptionalUser, mine: bool = False) -> list[ImageSet]:
    """Image sets the caller may see (public ones, their own; admins all), newest first; ``mine=true`` keeps
    the caller's own; ``limit``/``offset`` page them, ``X-Total-Count`` gives the total."""
    where = [auth.visible_image_sets_clause(user)]
    if mine:
        where.append(ImageSet.owner_id == (user.id if user else -1))
    page.set_total(session.scalar(select(func.count()).select_from(ImageSet).where(*where)) or 0)
    return list(
        session.scalars(
            select(ImageSet).where(*where).order_by(ImageSet.id.desc()).limit(page.limit).offset(page.offset)
        )
    )


@router.get("/{image_set_id}", response_model=ImageSetOut)
def get_image_set(image_set_id: int, session: SessionDep, user: OptionalUser) -> ImageSet:
    image_set = image_sets.get_image_set(session, image_set_id)
    auth.require_view_image_set(user, image_set)
    return image_set


class ImageSetChange(BaseModel):
    visibility: Literal["private", "public"] | None = None
    name: str | None = None


@router.patch("/{image_set_id}", response_model=ImageSetOut)
def change_image_set(image_set_id: int, change: ImageSetChange, session: SessionDep, user: CurrentUser) -> ImageSet:
    """Change ``visibility`` (private/public) or ``name``; the owner or an admin."""
    image_set = image_sets.get_image_set(session, image_set_id)
    auth.require_view_image_set(user, image_set)
    auth.require_owner(user, image_set.owner_id, f"image set {image_set_id}")
    if change.name is not None:
        name = change.name.strip()
        if not name or len(name) > 200:
            raise Invalid("field 'name' must be 1-200 characters")
        image_set.name = name
    if change.visibility is not None:
        image_set.visibility = change.visibility
    session.commit()  # the page reloads right after this answer
    return image_set


@router.delete("/{image_set_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_image_set(image_set_id: int, session: SessionDep, blob_storage: StorageDep, user: CurrentUser) -> None:
    """Delete the image set, its jobs and results, and files no other image set uses; the owner or an admin.
    409 while one of its jobs runs or a human study uses one."""
    image_set = image_sets.get_image_set(session, image_set_id)
    auth.require_view_image_set(user, image_set)
    auth.require_owner(user, image_set.owner_id, f"image set {image_set_id}")
    keys = deletion.delete_image_set(session, image_set)
    session.commit()
    deletion.remove_files(blob_storage, keys)


images_router = APIRouter(prefix="/api/v1/images", tags=["image sets"])


@images_router.get("/{image_id}", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def image_png(image_id: int, session: SessionDep, blob_storage: StorageDep, user: OptionalUser) -> Response:
    """The stored (normalised 8-bit RGB) image as PNG (visible where its image set is)."""
    image = image_sets.get_image(session, image_id)
    auth.require_view_image_set(user, image.image_set)
    return Response(blob_storage.get(image_key(image.content_hash)), media_type="image/png")
