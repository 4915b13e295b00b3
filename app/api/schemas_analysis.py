"""Request and response bodies of the metric analysis endpoints (issue 10): IQA data sets, correlation,
gMAD. Correlation reports follow ``analysis.correlation.CorrelationReport.to_dict`` plus ``source``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DatasetCreated(BaseModel):
    id: int
    name: str
    layout: str
    status: str = Field(description="queued | running | succeeded | failed")
    n_references: int
    n_distorted: int
    scores_only: bool = Field(
        False, description="the layout ships scores and metric values but no images: nothing is scored by the workers"
    )
    message: str | None = Field(None, description="what a scores-only data set holds and why nothing is scored")


class DatasetProgress(BaseModel):
    phase: str = Field(description="queued | verifying | scoring | done")
    done: int
    total: int


class DatasetOut(DatasetCreated):
    unit: str = Field(description="MOS, DMOS, JND or 2AFC, as the data set ships")
    higher_is_better: bool
    metrics: list[str]
    progress: DatasetProgress
    error: str | None
    created_at: str | None
    finished_at: str | None


class ScoreRow(BaseModel):
    id: int
    path: str
    reference: str
    distortion: str | None
    level: int | None
    score: float | None = Field(description="as shipped (MOS, DMOS or JND)")
    score_ci: list[float] | None = Field(None, description="the shipped score's 95% interval, where shipped (aic4)")
    human: float | None = Field(description="oriented higher = better")
    scored: bool
    metrics: dict[str, float | None]
    metric_notes: dict[str, str]


class Pending(BaseModel):
    status: str = Field(description="scoring: metric values are still being computed")
    done: int
    total: int


class CorrelationOut(BaseModel):
    source: dict[str, int]
    unit: str | None
    n: int
    group: str
    fit: str
    n_bootstrap: int | None = None
    metrics: list[dict[str, Any]]
    groups: dict[str, list[dict[str, Any]]]
    comparisons: list[dict[str, Any]]
    group_comparisons: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict, description="per group value: the metric pairs' Williams and bootstrap tests there"
    )


class GmadItemOut(BaseModel):
    result_id: int
    codec: str
    rate_point: float | None
    bpp: float | None
    defender: float | None
    attacker: float | None


class GmadPairOut(BaseModel):
    image: str
    a: GmadItemOut
    b: GmadItemOut
    defender_gap: float
    attacker_gap: float
    tolerance: float


class GmadOut(BaseModel):
    job_id: int
    defender: str
    attacker: str
    pairs: list[GmadPairOut]


class GmadStudyRequest(BaseModel):
    """Turn gMAD pairs into a pairwise study: every ordered pair of ``metrics`` (or the one
    ``defender``/``attacker`` pair), ``pairs`` gMAD pairs each."""

    metrics: list[str] | None = Field(default=None, min_length=2, description='e.g. ["psnr", "ms-ssim"]')
    defender: str | None = None
    attacker: str | None = None
    pairs: int = Field(default=5, ge=1, le=100)
    tolerance: float | None = Field(
        default=None, ge=0, description="defender gap allowed; default 2% of its range per image"
    )
    name: str | None = Field(default=None, max_length=200)
    trials_per_session: int | None = Field(default=None, ge=1, le=1000)
    crop: int | None = Field(default=None, ge=16)
    min_viewing_ms: int | None = Field(default=None, ge=0, le=60000)


class GmadStudyCreated(BaseModel):
    study_id: int
    job_id: int
    pairs: int
    participant_url: str
    report_url: str


class ObservationOut(BaseModel):
    """One judged condition in a report: where it comes from, its human score and the images people saw."""

    model_config = ConfigDict(extra="allow")

    condition: str | int
    image: str | int
    image_name: str | None = Field(default=None, description="The source image's file name, as pages name it")
    codec: str | None = None
    family: str | None = None
    bpp: float | None = None
    human: float
    result_id: int | None = None
    image_url: str | None = None
    reference_url: str | None = None


class ReportPoint(ObservationOut):
    distortion: str | None = None
    human_ci: list[float] | None = None
    metrics: dict[str, float | None] = Field(description="raw metric values (not oriented)")


class WorstOut(ObservationOut):
    metric_value: float | None
    predicted: float | None
    residual: float | None = Field(description="human - fitted logistic, in the human unit")


class ContradictionOut(BaseModel):
    better: ObservationOut = Field(description="the condition people rated better (non-overlapping intervals)")
    worse: ObservationOut
    metric_better: float | None
    metric_worse: float | None
    human_gap: float


class FamilyBiasOut(BaseModel):
    family: str | None
    n: int
    mean_residual: float | None = Field(description="+ = the metric under-rates this codec family")
    ci: list[float] | None


class MetricReportOut(BaseModel):
    metric: str
    higher_is_better: bool
    fit_failed: bool
    worst: list[WorstOut]
    contradicting_pairs: list[ContradictionOut]
    family_bias: list[FamilyBiasOut]


class ReportOut(BaseModel):
    """The report card of a study or data set: correlation, scatter points, failures, family bias."""

    source: dict[str, int]
    unit: str | None
    fit: str
    correlation: CorrelationOut
    points: list[ReportPoint]
    metrics: list[MetricReportOut]
