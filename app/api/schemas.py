"""Request and response bodies of the REST API (v1)."""
from __future__ import annotations

from pydantic import BaseModel, Field


class CodecSelection(BaseModel):
    name: str = Field(description="Codec name from GET /api/v1/codecs")
    rate_points: list[float] | None = Field(
        default=None, description="Rate points to run; omitted -> the codec's default sweep")


class JobRequest(BaseModel):
    image_set_id: int
    codecs: list[CodecSelection]
    metrics: list[str] | None = Field(default=None, description="Metric names; omitted -> psnr, ms-ssim")


class JobCreated(BaseModel):
    id: int
    status: str


class Progress(BaseModel):
    done: int
    total: int


class JobStatus(BaseModel):
    id: int
    image_set_id: int
    status: str = Field(description="queued, running, succeeded, failed or cancelled")
    progress: Progress
    error: str | None
    codecs: list[dict]
    metrics: list[str]
    created_at: str | None
    started_at: str | None
    finished_at: str | None


class ImageOut(BaseModel):
    id: int
    filename: str
    width: int
    height: int
    original_format: str
    conversion: str


class ImageSetOut(BaseModel):
    id: int
    name: str
    images: list[ImageOut]


class ResultOut(BaseModel):
    id: int
    image_id: int
    codec: str
    rate_point: float
    bytes: int
    bpp: float
    encode_seconds: float
    decode_seconds: float
    metrics_seconds: float
    metrics: dict[str, float | None] = Field(
        description="Metric name -> value; null when not applicable (see metric_notes). PSNR of identical "
                    "images is capped at 100 dB.")
    metric_notes: dict[str, str]
    device: str
