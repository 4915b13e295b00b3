"""Model submission over REST (bearer token)."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, UploadFile, status

from app.api.deps import CurrentToken, SessionDep, StorageDep
from app.api.rate_limits import UploadingUser
from app.api.schemas import CodecOut, SubmittedModelOut
from app.services.errors import TooLarge
from app.services.jobs import catalog, submissions
from app.settings import get_settings
from models.submitted import SUBMITTABLE_ARCHITECTURES

router = APIRouter(prefix="/api/v1/models", tags=["models"])


@router.get("/architectures", response_model=list[str])
def architectures() -> list[str]:
    """Architectures a checkpoint may be submitted for (CompressAI zoo registry names)."""
    return list(SUBMITTABLE_ARCHITECTURES)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubmittedModelOut)
def submit_model(
    token: CurrentToken,
    _uploader: UploadingUser,  # within UPLOADS_PER_MINUTE (429 otherwise)
    session: SessionDep,
    blob_storage: StorageDep,
    name: str = Form(..., description="Codec name; several checkpoints with one name are its rate points"),
    architecture: str = Form(..., description="One of GET /api/v1/models/architectures"),
    checkpoint: UploadFile = File(..., description="State dict: .pth/.pth.tar/.pt or .safetensors"),
    rate_point: int | None = Form(None, description="Integer label; default: next free"),
) -> SubmittedModelOut:
    """Register a checkpoint. It is loaded without executing code (weights_only / safetensors), must
    match the architecture's keys and shapes, and must pass a real encode/decode round trip; otherwise
    4xx and nothing is stored. A sync route (thread pool): loading and the smoke test never block the event
    loop; the 201 is sent after the commit."""
    limit = get_settings().max_checkpoint_bytes
    data = checkpoint.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"checkpoint is larger than the limit of {limit} bytes")
    model = submissions.submit_model(
        session, blob_storage, token, name, architecture, checkpoint.filename or "checkpoint.pth", data, rate_point
    )
    session.commit()
    codec = CodecOut.of(catalog.codecs(session)[model.name])
    return SubmittedModelOut(
        id=model.id,
        name=model.name,
        architecture=model.architecture,
        rate_point=model.rate_point,
        checkpoint_sha256=model.checkpoint_sha256,
        codec=codec,
    )
