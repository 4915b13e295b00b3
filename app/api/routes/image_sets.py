"""Image set upload and listing."""
from __future__ import annotations

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi.responses import Response

from app.api.deps import Pagination, SessionDep, StorageDep
from app.api.schemas import ImageSetOut
from app.db.tables import ImageSet
from app.services import image_sets
from app.services.errors import TooLarge
from app.services.image_sets import Upload
from app.services.storage import image_key
from app.settings import get_settings

router = APIRouter(prefix="/api/v1/image-sets", tags=["image sets"])


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"file {upload.filename!r} is larger than the upload limit of {limit} bytes")
    return data


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ImageSetOut)
async def create_image_set(
    session: SessionDep,
    blob_storage: StorageDep,
    name: str = Form(...),
    files: list[UploadFile] = File(...),
) -> ImageSet:
    """Upload images (PNG, JPEG, WebP, BMP, TIFF). Every file becomes 8-bit RGB: alpha composited on white,
    grayscale repeated to 3 channels, 16-bit scaled by v/257, CMYK converted without ICC, EXIF orientation
    applied. Any bad file rejects the whole request and nothing is stored."""
    limit = get_settings().max_upload_bytes
    uploads = [Upload(f.filename or "upload", await _read_limited(f, limit)) for f in files]
    image_set = image_sets.create_image_set(session, blob_storage, name, uploads)
    return image_set


@router.get("", response_model=list[ImageSetOut])
def list_image_sets(session: SessionDep, page: Pagination) -> list[ImageSet]:
    """Image sets, newest first; ``limit``/``offset`` page them, ``X-Total-Count`` gives the total."""
    page.set_total(image_sets.count_image_sets(session))
    return image_sets.list_image_sets(session, limit=page.limit, offset=page.offset)


@router.get("/{image_set_id}", response_model=ImageSetOut)
def get_image_set(image_set_id: int, session: SessionDep) -> ImageSet:
    return image_sets.get_image_set(session, image_set_id)


images_router = APIRouter(prefix="/api/v1/images", tags=["image sets"])


@images_router.get("/{image_id}", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def image_png(image_id: int, session: SessionDep,
              blob_storage: StorageDep) -> Response:
    """The stored (normalised 8-bit RGB) image as PNG."""
    return Response(blob_storage.get(image_key(image_sets.get_image(session, image_id).content_hash)),
                    media_type="image/png")
