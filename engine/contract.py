"""The contract between the web side and the job engine: what a job asks for, what one task runs, the task message
that carries it, and what a task is expected to cost.

The web side (``app/api``, ``app/services``) reads a :class:`JobRequest`, stores the job and hands :class:`TaskSpec` s
to the engine's queue; the engine (``engine/``, with ``workers/`` as its Celery entry) runs them. Neither imports the
other's internals: this module imports nothing from either side, only pydantic (the request model) and nothing of
the libraries.

A rate point is one :data:`RatePoint` (a float: quality, lambda index, ...) from the request body
(:class:`JobRequest`) through :class:`JobSpec`, :class:`TaskSpec` and the task message to ``codec.encode``; it is
made a float once, where it enters (the request model, :meth:`TaskSpec.__post_init__` for messages and task rows),
and JSON writes integral ones as integers (:func:`json_number`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, Field

RatePoint = float  # one value of a codec's rate knob (``models.base.RateSpec``)

# Format of a ``licbench.run_task`` message (issue 32): 1 = positional (job, image, codec, rate points) only, as
# queued before the field existed; 2 = the same plus ``message_version``. Workers run every version up to their own.
MESSAGE_VERSION = 2


def rate_points_of(value: Iterable[float] | float) -> tuple[RatePoint, ...]:
    """A task's rate points as floats; one number alone (the message format before tasks covered all rate
    points of an image x codec) is one rate point."""
    points = (value,) if isinstance(value, (int, float)) else tuple(value)
    return tuple(float(p) for p in points)


def json_number(value: RatePoint) -> int | float:
    """A rate point as a JSON number: integral ones stay integers (``30``, not ``30.0``)."""
    return int(value) if float(value).is_integer() else float(value)


# -- the request (``POST /api/v1/jobs``) ------------------------------------------------------------------------


class CodecSelection(BaseModel):
    """One codec of a job request; its rate points are checked against the codec's ``RateSpec`` when the job is
    stored (``app.services.jobs.jobs.create_job``)."""

    name: str = Field(description="Codec name from GET /api/v1/codecs")
    rate_points: list[RatePoint] | None = Field(
        default=None, description="Rate points to run; omitted -> the codec's default sweep"
    )


class JobRequest(BaseModel):
    """The body of ``POST /api/v1/jobs``."""

    image_set_id: int
    codecs: list[CodecSelection]
    metrics: list[str] | None = Field(default=None, description="Metric names; omitted -> psnr, ms-ssim")


# -- the validated job and its tasks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CodecSweep:
    """One codec of a validated job with the rate points it runs at (checked by the codec's ``RateSpec``, sorted,
    each once)."""

    name: str
    rate_points: tuple[RatePoint, ...]

    def as_json(self) -> dict:
        """The form stored in ``jobs.codecs`` and sent over REST."""
        return {"name": self.name, "rate_points": [json_number(p) for p in self.rate_points]}


@dataclass(frozen=True)
class JobSpec:
    """A validated job: an image set, codecs with their rate points, metric names."""

    image_set_id: int
    codecs: tuple[CodecSweep, ...]
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class TaskSpec:
    """One unit of work: encode one image with one codec at each of ``rate_points``, scoring every
    reconstruction against the reference prepared once (one result row per rate point).

    ``rate_points`` may be given as one number (a single rate point, as messages queued before
    tasks covered all rate points carry); it is stored as a tuple of floats.
    """

    job_id: int
    image_id: int
    codec: str
    rate_points: tuple[RatePoint, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate_points", rate_points_of(self.rate_points))

    def message_args(self) -> list:
        """The Celery message's positional arguments of ``licbench.run_task`` (a contract: messages already in a
        broker keep running across upgrades)."""
        return [self.job_id, self.image_id, self.codec, list(self.rate_points)]

    @classmethod
    def from_message(
        cls, job_id: int, image_id: int, codec: str, rate_points: list[float] | float, message_version: int = 1
    ) -> TaskSpec:
        """The task a ``licbench.run_task`` message names (:meth:`message_args`; ``message_version`` is absent
        from messages queued before it existed: 1). A message from a newer licbench is refused rather than
        misread."""
        if message_version > MESSAGE_VERSION:
            raise ValueError(
                f"task message version {message_version} is newer than this worker's {MESSAGE_VERSION}: "
                "upgrade the worker"
            )
        return cls(job_id, image_id, codec, rate_points_of(rate_points))

    @classmethod
    def of(cls, row: TaskRow) -> TaskSpec:
        """The task a ``tasks`` row stores (its JSON list of rate points made floats here, once)."""
        return cls(row.job_id, row.image_id, row.codec, rate_points_of(row.rate_points))


class TaskRow(Protocol):
    """What :meth:`TaskSpec.of` reads from a task's row (``app.db.tables.Task``)."""

    @property
    def job_id(self) -> int: ...

    @property
    def image_id(self) -> int: ...

    @property
    def codec(self) -> str: ...

    @property
    def rate_points(self) -> list: ...


# -- cost estimates --------------------------------------------------------------------------------------------
# Encode + decode + metrics (PSNR, MS-SSIM) + PNG + commit seconds per rate point per megapixel on one core,
# measured on the demo photos on the 2-core development machine (2026-12-07). Only the ratios matter: they order
# a job's tasks cheap-first and weight its ETA (``estimated_seconds``); elapsed time calibrates the scale.
SECONDS_PER_MEGAPIXEL: dict[str, float] = {
    "jpeg": 0.2,
    "jpeg-444": 0.2,
    "jpeg2000": 0.4,
    "webp": 0.45,
    "jpeg-xl": 0.85,
    "heic": 1.0,
    "avif": 1.2,
    "heic-444": 1.25,
    "tiny-hyperprior": 1.1,
    "licbench-multirate": 4.2,
    "licbench-multirate-refined": 600.0,
}
DEFAULT_SECONDS_PER_MEGAPIXEL = {"classical": 1.0, "learned": 8.0}
# A codec whose estimate is above this is left out of the default demo job (one click away on the job form).
DEMO_MAX_SECONDS_PER_MEGAPIXEL = 50.0


def seconds_per_megapixel(codec: str, kind: str) -> float:
    """Estimated seconds per rate point per megapixel of ``codec`` (unknown codecs: by their kind)."""
    return SECONDS_PER_MEGAPIXEL.get(codec, DEFAULT_SECONDS_PER_MEGAPIXEL.get(kind, 8.0))


def estimated_seconds(codec: str, kind: str, pixels: int, rate_points: int = 1) -> float:
    """Estimated seconds of ``rate_points`` rate points of ``codec`` on an image of ``pixels`` pixels."""
    return seconds_per_megapixel(codec, kind) * max(pixels, 1) / 1e6 * rate_points
