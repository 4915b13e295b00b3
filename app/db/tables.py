"""SQLAlchemy 2 table definitions. Alembic (``migrations/``) is the only way the schema changes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    """A lab member (role ``member``) or an administrator (``admin``); only an argon2 hash of the
    password is stored (an unusable one, ``!...``, until a password is set)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("name", name="uq_users_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="member")  # admin | member
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ImageSet(Base):
    __tablename__ = "image_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    visibility: Mapped[str] = mapped_column(String(10), default="private", server_default="private")  # private|public
    owner: Mapped[User | None] = relationship()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    images: Mapped[list[Image]] = relationship(back_populates="image_set", order_by="Image.id")


class Image(Base):
    """One uploaded image, stored as normalised 8-bit RGB PNG under ``images/<content_hash>.png``."""

    __tablename__ = "images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_set_id: Mapped[int] = mapped_column(ForeignKey("image_sets.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the normalised RGB PNG
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    original_format: Mapped[str] = mapped_column(String(16))
    original_mode: Mapped[str] = mapped_column(String(16))
    conversion: Mapped[str] = mapped_column(Text, default="")  # which normalisation rules applied
    image_set: Mapped[ImageSet] = relationship(back_populates="images")


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_set_id: Mapped[int] = mapped_column(ForeignKey("image_sets.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    codecs: Mapped[list] = mapped_column(JSON)  # [{"name": ..., "rate_points": [...]}]
    metrics: Mapped[list] = mapped_column(JSON)  # ["psnr", ...]
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    image_set: Mapped[ImageSet] = relationship()
    owner: Mapped[User | None] = relationship()


class Result(Base):
    """One (job, image, codec, rate point) outcome; unique so a redelivered task never duplicates it."""

    __tablename__ = "results"
    __table_args__ = (
        UniqueConstraint("job_id", "image_id", "codec", "rate_point", name="uq_result_task"),
        # result pages read a job's rows in this order (migration 0008)
        Index("ix_results_job_order", "job_id", "codec", "rate_point", "image_id", "id"),
        # cached RD/BD-rate answers check a job's newest row id (migration 0010)
        Index("ix_results_job_latest", "job_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"))
    codec: Mapped[str] = mapped_column(String(100))
    rate_point: Mapped[float] = mapped_column(Float)
    bytes: Mapped[int] = mapped_column(Integer)
    bpp: Mapped[float] = mapped_column(Float)
    encode_seconds: Mapped[float] = mapped_column(Float)
    decode_seconds: Mapped[float] = mapped_column(Float)
    metrics_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")  # time spent scoring
    metrics: Mapped[dict] = mapped_column(JSON)  # name -> finite float or null
    # name -> why null, or what a value depends on (cvvdp/flip: display model, pixels per degree)
    metric_notes: Mapped[dict] = mapped_column(JSON, default=dict)
    reconstruction_path: Mapped[str] = mapped_column(String(500))
    # sha256 of the PNG as written (migration 0013; null for rows older than it until `licbench verify`)
    reconstruction_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    device: Mapped[str] = mapped_column(String(32), default="cpu")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TaskFailure(Base):
    """A task that raised: recorded so the job can finish and say what failed, results kept."""

    __tablename__ = "task_failures"
    __table_args__ = (UniqueConstraint("job_id", "image_id", "codec", "rate_point", name="uq_failure_task"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"))
    codec: Mapped[str] = mapped_column(String(100))
    rate_point: Mapped[float] = mapped_column(Float)
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Task(Base):
    """The state of one task (image x codec covering its rate points; issue 13): written with the job, claimed
    and finished by the worker, watched by the sweep (``engine/task_state.py``). Migration 0009."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("job_id", "image_id", "codec", name="uq_task"),
        Index("ix_tasks_job_state", "job_id", "state"),
        Index("ix_tasks_state_queued_at", "state", "queued_at"),
        Index("ix_tasks_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"))
    codec: Mapped[str] = mapped_column(String(100))
    rate_points: Mapped[list] = mapped_column(JSON)  # [float, ...]
    state: Mapped[str] = mapped_column(String(20), default="queued")  # app.db.enums.TaskState
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims by a worker so far
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)  # hostname:pid of the last claim
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)  # last (re)send
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ApiToken(Base):
    """A bearer token for REST clients; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user: Mapped[User | None] = relationship()


class SubmittedModel(Base):
    """One checkpoint submitted over REST: a rate point of a submitted codec."""

    __tablename__ = "submitted_models"
    __table_args__ = (UniqueConstraint("name", "rate_point", name="uq_submitted_rate_point"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    architecture: Mapped[str] = mapped_column(String(100))
    rate_point: Mapped[int] = mapped_column(Integer)
    checkpoint_key: Mapped[str] = mapped_column(String(500))  # blob storage key of the state dict
    checkpoint_sha256: Mapped[str] = mapped_column(String(64))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReferenceCurve(Base):
    """An imported RD curve (CompressAI results JSON), labelled e.g. "published"."""

    __tablename__ = "reference_curves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(100), default="published")
    description: Mapped[str] = mapped_column(Text, default="")
    results: Mapped[dict] = mapped_column(JSON)  # CompressAI's "results" object: {"bpp": [...], "psnr-rgb": [...]}
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Study(Base):
    """A human study built from a finished job: observers compare (``pairwise``) or rate (``dsis``)
    its reconstructions against the originals through a link that carries ``token``."""

    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(20))  # a registered study method: pairwise | dsis | triplet
    sampling: Mapped[str] = mapped_column(String(20))  # balanced | active
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), index=True, nullable=True)  # null: imported
    imported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # read-only answers
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)  # imported studies
    visibility: Mapped[str | None] = mapped_column(String(10), nullable=True)  # imported: private | public
    boost: Mapped[list | None] = mapped_column(JSON, nullable=True)  # triplet: zoom | flicker | amplify
    crop: Mapped[int | None] = mapped_column(Integer, nullable=True)  # square side in pixels; null = whole images
    trials_per_session: Mapped[int] = mapped_column(Integer)
    min_viewing_ms: Mapped[int] = mapped_column(Integer)
    token: Mapped[str] = mapped_column(String(100))  # the participant link's secret (owner pages show the link)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    answers_version: Mapped[int] = mapped_column(Integer, default=0)  # bumped by every stored response
    scale_version: Mapped[int] = mapped_column(Integer, default=-1)  # answers_version the cached scale saw
    scale_cache: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    scale_queued_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # sent to a worker
    scale_queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    conditions: Mapped[list[StudyCondition]] = relationship(order_by="StudyCondition.id")


class StudyCondition(Base):
    """One stimulus: a result's reconstruction, or the hidden reference (``result_id`` null) of an image,
    cropped to the study's region of that image and stored once under ``image_key``."""

    __tablename__ = "study_conditions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    result_id: Mapped[int | None] = mapped_column(ForeignKey("results.id"), nullable=True)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id"), nullable=True)  # null: imported
    codec: Mapped[str | None] = mapped_column(String(100), nullable=True)  # "reference" for the original
    rate_point: Mapped[float | None] = mapped_column(Float, nullable=True)
    bpp: Mapped[float | None] = mapped_column(Float, nullable=True)
    image_key: Mapped[str | None] = mapped_column(String(500), nullable=True)  # blob key of the shown PNG
    image_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # of that PNG (migration 0013)
    crop_box: Mapped[list | None] = mapped_column(JSON, nullable=True)  # [left, top, width, height] in source pixels
    label: Mapped[str | None] = mapped_column(String(300), nullable=True)  # imported; native: derived
    group_name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # imported scene/source
    is_reference: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # imported; native: result_id null


class StudySession(Base):
    """One observer's sitting; its unguessable id authorises its trials, answers and trial images."""

    __tablename__ = "study_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    participant: Mapped[str | None] = mapped_column(String(200), nullable=True)
    display: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # width, height, device_pixel_ratio
    plan: Mapped[list] = mapped_column(JSON)  # control kind per position: regular | trap | identical | repeat
    seed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StudyTrial(Base):
    """One served trial and, once answered, its response and the logged credibility data."""

    __tablename__ = "study_trials"
    __table_args__ = (UniqueConstraint("session_id", "position", name="uq_trial_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("study_sessions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based
    kind: Mapped[str] = mapped_column(String(20))  # pairwise | dsis
    control: Mapped[str] = mapped_column(String(20))  # regular | trap | identical | repeat
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"))
    condition_a_id: Mapped[int] = mapped_column(ForeignKey("study_conditions.id"))
    condition_b_id: Mapped[int | None] = mapped_column(ForeignKey("study_conditions.id"), nullable=True)
    repeat_of_trial_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    choice: Mapped[str | None] = mapped_column(String(10), nullable=True)  # a | b (pairwise), left | right | not_sure
    boost: Mapped[list | None] = mapped_column(JSON, nullable=True)  # triplet: the boosts this trial applied
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1..5 (dsis)
    response_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    served_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StudyAnswer(Base):
    """One answer of an imported study (no sessions): a pairwise comparison (``a`` vs ``b``, ``choice`` a|b)
    or a triplet (pivot = the group's reference, ``a`` left, ``b`` right, ``choice`` left|right|not_sure)."""

    __tablename__ = "study_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    observer: Mapped[str] = mapped_column(String(200))
    condition_a_id: Mapped[int] = mapped_column(ForeignKey("study_conditions.id", ondelete="CASCADE"))
    condition_b_id: Mapped[int | None] = mapped_column(
        ForeignKey("study_conditions.id", ondelete="CASCADE"), nullable=True
    )
    pivot_id: Mapped[int | None] = mapped_column(
        ForeignKey("study_conditions.id", ondelete="CASCADE"), nullable=True
    )  # triplet; null = the group's reference
    batch: Mapped[str | None] = mapped_column(String(200), nullable=True)  # triplet screening unit (AIC-3)
    choice: Mapped[str] = mapped_column(String(10))
    control: Mapped[str] = mapped_column(String(20))  # regular | trap | repeat | bias
    boosted: Mapped[bool] = mapped_column(Boolean, default=False)


class IqaDataset(Base):
    """A public IQA data set imported from the lab's files (issue 10): its layout, scoring progress and
    the human-score direction as shipped. Extracted files live under ``files_key`` in blob storage."""

    __tablename__ = "iqa_datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    layout: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)  # queued|running|succeeded|failed
    phase: Mapped[str] = mapped_column(String(20), default="queued")  # queued | verifying | scoring | done
    unit: Mapped[str] = mapped_column(String(10))  # MOS | DMOS | JND | 2AFC
    higher_is_better: Mapped[bool] = mapped_column(Boolean)
    n_references: Mapped[int] = mapped_column(Integer)
    n_distorted: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[list] = mapped_column(JSON)  # metric names scored
    triplets: Mapped[list] = mapped_column(JSON, default=list)  # [[original, a, b, prefers_a], ...] (2AFC layouts)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    files_key: Mapped[str] = mapped_column(String(500))  # storage key of the layout's root folder
    # sha256 of every stored file, keyed by path relative to datasets/<id> (migration 0013; null before it)
    file_hashes: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IqaDatasetImage(Base):
    """One distorted image of a data set with its human score as shipped and, once scored, metric values."""

    __tablename__ = "iqa_dataset_images"
    __table_args__ = (UniqueConstraint("dataset_id", "path", "reference", name="uq_dataset_image"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("iqa_datasets.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))  # relative to the layout root
    reference: Mapped[str] = mapped_column(String(500))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)  # null for 2AFC-only images
    # The shipped score's 95% interval, where the layout ships one (aic4's JND intervals).
    score_ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    score_ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    distortion: Mapped[str | None] = mapped_column(String(100), nullable=True)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    scored: Mapped[bool] = mapped_column(Boolean, default=False)
    metrics: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # name -> finite float or null
    metric_notes: Mapped[dict] = mapped_column(JSON, default=dict)


class StudyCropScore(Base):
    """Metric values of one study condition's crop against its reference crop (the pixels people saw)."""

    __tablename__ = "study_crop_scores"
    __table_args__ = (UniqueConstraint("condition_id", name="uq_crop_score_condition"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    condition_id: Mapped[int] = mapped_column(ForeignKey("study_conditions.id", ondelete="CASCADE"))
    scored: Mapped[bool] = mapped_column(Boolean, default=False)
    metrics: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    metric_notes: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GmadStudy(Base):
    """A pairwise study made from gMAD pairs of a job, so people settle which metric was right."""

    __tablename__ = "gmad_studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), unique=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    pairs: Mapped[list] = mapped_column(JSON)  # [{"defender", "attacker", "a_result_id", "b_result_id", ...}]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AnalysisReport(Base):
    """A cached correlation report of a study or data set, valid while ``version`` matches its inputs."""

    __tablename__ = "analysis_reports"
    __table_args__ = (UniqueConstraint("source", "source_id", "key", name="uq_analysis_report"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # study | dataset
    source_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(100))  # what was computed, e.g. "correlation:family:logistic4"
    version: Mapped[str] = mapped_column(String(100))
    report: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WorkerHeartbeat(Base):
    """The last sign of life of one worker process (written periodically by the worker itself, so it works on
    the embedded broker, where Celery's remote control does not)."""

    __tablename__ = "worker_heartbeats"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # hostname:pid
    queues: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
