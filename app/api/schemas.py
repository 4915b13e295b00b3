"""Request and response bodies of the REST API (v1).

Response models read the ORM rows and library objects directly (``from_attributes=True``, as in FastAPI's
full-stack template), so routes return what the services give them and the OpenAPI schema documents every
answer. Numbers keep their JSON form: rate points that are integers stay integers, timestamps are
``datetime.isoformat()``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from app.db.enums import JobStatus, TaskState
from engine.contract import seconds_per_megapixel
from metrics.base import Metric
from models.base import Codec


def _integral_as_int(value: Any) -> Any:
    """Rate points as JSON numbers: 20.0 -> 20, 0.5 stays 0.5."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


RatePoint = Annotated[int | float, BeforeValidator(_integral_as_int)]
Timestamp = Annotated[datetime, PlainSerializer(lambda v: v.isoformat(), return_type=str)]
# An owner row (app.db.tables.User) as its name.
OwnerName = Annotated[str | None, BeforeValidator(lambda v: getattr(v, "name", v))]


class OrmModel(BaseModel):
    """A response read from attributes (ORM rows, dataclasses)."""

    model_config = ConfigDict(from_attributes=True)


# --- requests: the job request (``JobRequest``, ``CodecSelection``) is the engine contract's own model
# (``engine.contract``), so a rate point is a ``RatePoint`` from the request body on.


# --- system -----------------------------------------------------------------------------------------------


class WorkersOut(BaseModel):
    alive: bool = Field(description="A worker wrote its heartbeat within the last few intervals")
    count: int = Field(description="Workers with a recent heartbeat")
    last_heartbeat: Timestamp | None = Field(description="Newest heartbeat of any worker (null: never)")
    seconds_since_heartbeat: float | None
    detail: str


class HealthOut(BaseModel):
    status: str = Field(description="ok when the database and the broker both answer, else degraded")
    database: str
    broker: str
    workers: WorkersOut | None = Field(
        default=None, description="Worker heartbeat (a missing worker is reported here, not a reason for a 503)"
    )
    tasks_waiting: int | None = Field(
        default=None,
        description="Benchmark tasks queued for jobs that are queued or running (stored tasks not yet finished)",
    )


class RateRangeOut(BaseModel):
    min: RatePoint
    max: RatePoint
    integer: bool
    label: str


class CodecOut(BaseModel):
    name: str
    kind: str = Field(description="classical, learned or submitted")
    description: str
    rate_points: list[RatePoint] = Field(description="The default sweep")
    rate_range: RateRangeOut
    available: bool
    reason: str | None = Field(description="Why the codec cannot run here (null when available)")
    seconds_per_megapixel: float | None = Field(
        default=None,
        description="Estimated seconds per rate point per megapixel on one CPU core (orders a job's "
        "tasks and weights its ETA)",
    )

    @classmethod
    def of(cls, codec: Codec) -> CodecOut:
        """The catalogue entry of ``codec`` with its availability here."""
        availability = codec.availability()
        rate = codec.rate
        return cls(
            name=codec.name,
            kind=codec.kind,
            description=codec.description,
            rate_points=list(rate.points),
            rate_range=RateRangeOut(min=rate.minimum, max=rate.maximum, integer=rate.integer, label=rate.label),
            available=availability.available,
            reason=availability.reason,
            seconds_per_megapixel=seconds_per_megapixel(codec.name, codec.kind),
        )


class MetricOut(BaseModel):
    name: str
    higher_is_better: bool
    range: list[float] = Field(description="Lowest and highest value the metric gives")
    unit: str = Field(description='What a value counts: "dB", "JOD", "index", "distance", "score", ...')
    reference: str = Field(description="The paper or implementation the values are checked against")
    min_size: int = Field(description="Smallest accepted height and width in pixels")
    description: str
    available: bool
    reason: str | None

    @classmethod
    def of(cls, metric: Metric) -> MetricOut:
        """The catalogue entry of ``metric`` with its availability here."""
        availability = metric.availability()
        return cls(
            name=metric.name,
            higher_is_better=metric.higher_is_better,
            range=list(metric.value_range),
            unit=metric.unit,
            reference=metric.reference,
            min_size=metric.min_size,
            description=metric.description,
            available=availability.available,
            reason=availability.reason,
        )


# --- image sets -------------------------------------------------------------------------------------------


class ImageOut(OrmModel):
    id: int
    filename: str
    width: int
    height: int
    original_format: str
    conversion: str


class ImageSetOut(OrmModel):
    id: int
    name: str
    images: list[ImageOut]
    owner: OwnerName = Field(default=None, description="User name of the owner")
    visibility: str = Field(default="private", description="private (owner and admins) or public (everyone)")
    created_at: Timestamp | None = None


# --- jobs and results -------------------------------------------------------------------------------------


class JobCreated(OrmModel):
    id: int
    status: JobStatus


class Progress(BaseModel):
    done: int
    total: int


class JobCodecOut(BaseModel):
    name: str
    rate_points: list[RatePoint]


class JobOut(OrmModel):
    id: int
    image_set_id: int
    status: JobStatus
    progress: Progress
    error: str | None
    codecs: list[JobCodecOut]
    metrics: list[str]
    created_at: Timestamp | None
    started_at: Timestamp | None
    finished_at: Timestamp | None
    owner: OwnerName = Field(default=None, description="User name of who started the job")
    estimated_seconds_left: float | None = Field(
        default=None,
        description="GET /jobs/{id} while the job runs: its remaining rate points weighted by their "
        "estimated cost, at the pace of the work done so far (null before the first one)",
    )

    @model_validator(mode="before")
    @classmethod
    def _progress_from_counts(cls, data: Any) -> Any:
        """The ``jobs`` table keeps ``done``/``total`` as columns; the API nests them under ``progress``."""
        if isinstance(data, dict) or not hasattr(data, "done"):
            return data
        fields = {
            name: getattr(data, name) for name in cls.model_fields if name not in ("progress", "estimated_seconds_left")
        }
        return {
            **fields,
            "progress": Progress(done=data.done, total=data.total),
            "estimated_seconds_left": getattr(data, "estimated_seconds_left", None),
        }


class ResultOut(OrmModel):
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
        "images is capped at 100 dB."
    )
    metric_notes: Annotated[dict[str, str], BeforeValidator(lambda notes: notes or {})] = Field(
        description="Metric name -> why its value is null, or what a value depends on besides the images "
        "(cvvdp, flip: display model and pixels per degree)"
    )
    device: str


class RDPointOut(BaseModel):
    rate_point: float
    bpp: float
    value: float = Field(description="Mean of the metric over the images at this rate point")
    images: int = Field(description="How many images the point averages")
    complete: bool = Field(
        default=True,
        description="False while the point averages fewer than all the set's images (a running job, or failed tasks)",
    )


class RDCurveOut(BaseModel):
    codec: str
    image_id: int | None = Field(description="null: mean over images")
    points: list[RDPointOut]


class CommonImagesOut(BaseModel):
    """The image subset that mean curves and BD-rates average over (``results.CommonImages``)."""

    images_common: int | None = Field(
        default=None,
        description="Mean curves: how many images every mean point and BD-rate averages (those "
        "every plotted codec has finished); null for per-image answers",
    )
    images_total: int | None = Field(default=None, description="Images in the job's set (null per image)")
    complete: bool = Field(default=True, description="False when the means cover only a subset of the images")
    pending_codecs: list[str] = Field(
        default_factory=list,
        description="Codecs of the job left out of the means until they finish an image of that subset",
    )


class RDCurvesOut(CommonImagesOut):
    job_id: int
    metric: str
    per_image: bool
    curves: list[RDCurveOut]


class BDOut(OrmModel):
    value: float | None = Field(description="null when it cannot be computed (see reason)")
    unit: str
    reason: str | None
    points: list[int] = Field(description="(anchor, test) points inside the overlapping range")
    overlap: list[float] | None = Field(description="The integration interval")


class BDRowOut(OrmModel):
    codec: str
    bd_rate: BDOut
    bd_quality: BDOut
    images: int | None = Field(
        default=None,
        description="Images compared: those where both this codec's and the "
        "anchor's curves are complete (all images once the job is done)",
    )


class BDRatesOut(CommonImagesOut):
    job_id: int
    anchor: str
    metric: str
    method: str
    image_id: int | None = Field(default=None, description="The image whose curves were compared (null: mean curves)")
    rows: list[BDRowOut]


class CompressAIDocument(BaseModel):
    """CompressAI's results JSON (``results``: ``bpp``, metric keys such as ``psnr-rgb``, ``rate_point``)."""

    name: str
    description: str
    results: dict[str, list[float]]


# --- reference curves -------------------------------------------------------------------------------------

PUBLISHED_LABEL = "published (CompressAI, Kodak)"


class ReferenceCurveOut(BaseModel):
    id: int | None = Field(description="null for the shipped published curves (they cannot be deleted)")
    name: str
    label: str
    description: str
    bpp: list[float]
    metrics: dict[str, list[float]] = Field(description="licbench metric name -> values, one per bpp")
    source: dict[str, Any] | None = Field(description="Where a shipped curve comes from (repository, path, commit)")

    @classmethod
    def published(cls, curve: Any) -> ReferenceCurveOut:
        """A shipped curve (``analysis.compressai_json.ReferenceCurve``)."""
        return cls(
            id=None,
            name=curve.name,
            label=PUBLISHED_LABEL,
            description=curve.description,
            bpp=curve.bpp,
            metrics=curve.metrics,
            source=curve.source,
        )

    @classmethod
    def imported(cls, row: Any) -> ReferenceCurveOut:
        """An imported curve (``reference_curves`` row; ``results`` holds ``bpp`` and the metrics)."""
        return cls(
            id=row.id,
            name=row.name,
            label=row.label,
            description=row.description,
            bpp=row.results["bpp"],
            metrics={k: v for k, v in row.results.items() if k != "bpp"},
            source=None,
        )


class ReferenceCurveCreated(OrmModel):
    id: int
    name: str
    label: str


# --- submitted models -------------------------------------------------------------------------------------


class SubmittedModelOut(OrmModel):
    id: int
    name: str
    architecture: str
    rate_point: int
    checkpoint_sha256: str
    codec: CodecOut = Field(description="The codec the checkpoint belongs to, as GET /api/v1/codecs lists it")


# --- task state (issue 13) ----------------------------------------------------------------------------------


class TaskOut(OrmModel):
    """One task (image x codec covering its rate points) of a job, from the ``tasks`` table."""

    id: int
    job_id: int
    image_id: int
    codec: str
    rate_points: list[RatePoint]
    state: TaskState
    attempts: int = Field(description="How many times a worker claimed the task")
    worker: str | None = Field(description="hostname:pid of the worker that claimed it last")
    queued_at: Timestamp | None
    started_at: Timestamp | None
    finished_at: Timestamp | None
    heartbeat_at: Timestamp | None
    error: str | None
    rate_points_done: int | None = Field(
        default=None,
        description="Rate points finished (stored or failed) of "
        "this task's rate_points: the progress inside a long task",
    )


class RetryOut(BaseModel):
    """What ``POST /api/v1/jobs/{job_id}/retry`` did."""

    job_id: int
    requeued: int = Field(description="Failed tasks put back to queued (their recorded failures deleted)")
    sent: int = Field(description="Messages handed to the broker now; the rest go with the next sweep")
    detail: str | None = Field(default=None, description="Why some were not sent")
