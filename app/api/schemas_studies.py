"""Request and response bodies of the human-study endpoints (``/api/v1/studies``, issue 9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from analysis.subjective.methods import method_names
from analysis.subjective.methods.triplet import BOOSTS
from app.settings import get_settings

if TYPE_CHECKING:  # built from the method registry at import time; static checkers see plain strings
    MethodName = str
    Boost = str
else:
    MethodName = Literal[tuple(method_names())]  # the registered study methods (analysis.subjective.methods)
    Boost = Literal[BOOSTS]


class StudyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    method: MethodName
    job_id: int
    result_ids: list[int] | None = Field(default=None, description="Results of the job; omitted -> all of them")
    trials_per_session: int = Field(
        default_factory=lambda: get_settings().study_trials_per_session,
        ge=1,
        le=1000,
        description="Trials per session, controls included",
    )
    sampling: Literal["balanced", "active"] = "balanced"
    crop: int | None = Field(
        default_factory=lambda: get_settings().study_crop,
        ge=16,
        le=8192,
        description="Square crop side in pixels (one region per source image); null = whole images",
    )
    min_viewing_ms: int = Field(
        default_factory=lambda: get_settings().study_min_viewing_ms,
        ge=0,
        le=60_000,
        description="The participant page accepts an answer only after this long",
    )
    boost: list[Boost] = Field(
        default_factory=list,
        description="triplet only: AIC-3 boosting, any of zoom (x2), flicker (against the pivot) and amplify",
    )


class ConditionOut(BaseModel):
    id: int
    result_id: int | None = Field(description="null for the hidden reference (the original) and imported studies")
    image_id: int | None = Field(description="null for imported studies")
    codec: str | None = Field(description='"reference" for the original; null for imported studies')
    rate_point: float | None
    bpp: float | None
    crop_box: list[int] | None = Field(
        description="[left, top, width, height] of the shown region in source pixels; null for imported studies"
    )
    label: str = Field(description='"<codec> @ <rate_point>" or "reference"; an imported study\'s own label')
    group: str = Field(description="the source image id (as a string), or an imported study's scene / source")
    reference: bool = Field(description="the group's anchor (score 0 on the scale)")


class StudyOut(BaseModel):
    id: int
    name: str
    method: str
    sampling: str
    status: str = Field(description="open or closed (imported studies are always closed)")
    job_id: int | None = Field(description="null for imported studies")
    imported: bool = False
    visibility: str | None = Field(
        default=None, description="imported studies: private or public; native studies are visible where their job is"
    )
    boost: list[str] = Field(default_factory=list, description="triplet studies: the boosts applied")
    crop: int | None
    trials_per_session: int
    min_viewing_ms: int
    token: str | None = Field(
        description="The participant link's secret (256 random bits); null for callers "
        "other than the job's owner and admins"
    )
    participant_url: str | None
    created_at: str | None
    closed_at: str | None
    conditions: list[ConditionOut]


class ImportedCondition(BaseModel):
    id: int
    label: str
    group: str
    reference: bool


class ImportedStudyOut(BaseModel):
    """``POST /api/v1/studies/import``'s answer."""

    id: int
    name: str
    method: Literal["pairwise", "triplet"]
    imported: bool
    answers: int = Field(description="answers stored (pwcmp: identical-pair rows dropped; aic3: skip rows dropped)")
    observers: int
    conditions: list[ImportedCondition]


class ConditionProgress(BaseModel):
    condition_id: int
    trials: int = Field(description="Answered trials that showed this condition")


class StudyProgress(BaseModel):
    sessions: int
    sessions_complete: int
    trials_answered: int
    conditions: list[ConditionProgress]


class Display(BaseModel):
    width: int = Field(ge=1, le=100_000, description="Window width in CSS pixels")
    height: int = Field(ge=1, le=100_000, description="Window height in CSS pixels")
    device_pixel_ratio: float = Field(gt=0, le=16)


class SessionRequest(BaseModel):
    token: str = Field(max_length=200)
    participant: str | None = Field(default=None, max_length=200)
    display: Display | None = None


class SessionCreated(BaseModel):
    id: str


class TrialImage(BaseModel):
    condition_id: int
    url: str


class PivotImage(BaseModel):
    url: str


class TripletTrialOut(BaseModel):
    """A triplet: the pivot (the original) between two reconstructions of the same image."""

    trial_id: int
    kind: Literal["triplet"]
    image_id: int
    pivot: PivotImage
    left: TrialImage
    right: TrialImage
    boost: list[str] = Field(description="boosts applied to this trial (zoom, flicker, amplify)")
    position: int
    total: int


class PairTrialOut(BaseModel):
    trial_id: int
    kind: Literal["pairwise", "dsis"]
    image_id: int
    reference_url: str
    a: TrialImage
    b: TrialImage | None = Field(default=None, description="pairwise only")
    position: int = Field(description="1-based; control trials count too")
    total: int


TrialOut = Annotated[PairTrialOut | TripletTrialOut, Field(discriminator="kind")]


class ResponseRequest(BaseModel):
    trial_id: int
    choice: Literal["a", "b", "left", "right", "not_sure"] | None = Field(
        default=None,
        description="pairwise: a|b, the image closer to the reference; triplet: left|right|not_sure, "
        "the side that differs more from the pivot",
    )
    score: int | None = Field(default=None, ge=1, le=5, description="dsis: 5 imperceptible .. 1 very annoying")
    response_ms: int | None = Field(default=None, ge=0, le=86_400_000)


class ResponseStored(BaseModel):
    trial_id: int
    position: int
    total: int


class ScaleCondition(BaseModel):
    condition_id: int
    result_id: int | None
    image_id: int | None = Field(description="null for imported studies")
    codec: str | None = Field(description="null for imported studies")
    rate_point: float | None
    bpp: float | None
    label: str
    group: str
    reference: bool
    jnd: float | None = Field(default=None, description="triplet studies: -score (AIC's distortion, higher is worse)")
    score: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    effective_comparisons: float | None = Field(
        default=None,
        description="pairwise: answers that involved the condition, each weighted by its Fisher "
        "information about the distance relative to a 50/50 answer (1 at 50%, 0.54 at 90%, 0.11 at 99%)",
    )


class ScaleGroupWarning(BaseModel):
    group: str = Field(description="the group (scene: source image id) the warning is about")
    message: str


class ScaleObserver(BaseModel):
    session_id: str
    trials: int
    outlier: bool
    reason: str | None
    excluded: bool = Field(description="kept out of the scale (failed traps or leave-one-out outlier)")


class ScaleOut(BaseModel):
    study_id: int
    method: str
    unit: Literal["JOD", "MOS", "JND"]
    conditions: list[ScaleCondition]
    observers: list[ScaleObserver]
    warnings: list[str]
    group_warnings: list[ScaleGroupWarning] = Field(
        default_factory=list,
        description="the per-group warnings of `warnings` with their group, e.g. a group "
        "whose comparisons are too sparse and near-unanimous to measure JOD distances",
    )
    trials: int
    answers_version: int
    computed_at: str


class ResponseRow(BaseModel):
    """One answered trial in pwcmp's column layout plus the logged extras (the CSV has the same columns)."""

    observer: str = Field(description="participant name, else the session id")
    session: str
    scene: int = Field(description="source image id")
    condition_A: int
    condition_B: int | None = Field(description="null for DSIS")
    is_A_selected: int | None = Field(description="1/0 for pairwise, null for DSIS")
    trial_id: int
    position: int
    kind: str
    control: str = Field(description="regular, trap, identical or repeat")
    repeat_of_trial_id: int | None
    choice: str | None
    score: int | None
    response_ms: int | None
    served_at: str
    answered_at: str
    codec_A: str
    rate_point_A: float | None
    bpp_A: float | None
    codec_B: str | None
    rate_point_B: float | None
    bpp_B: float | None
    window_width: int | None
    window_height: int | None
    device_pixel_ratio: float | None
