"""The one settings object: every tunable comes from environment variables (prefix-free names)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """licbench configuration. Defaults are the embedded set-up: SQLite and a SQLite-backed broker."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Images, reconstructions, embedded DB files.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty -> SQLite under data_dir.")
    broker_url: str = Field(default="", description="Celery broker; empty -> SQLite (kombu sqla) under data_dir.")
    weights_dir: Path = Field(default=Path("weights"), description="Local pretrained weights folder.")
    device: str = Field(default="cpu", description="cpu, cuda or auto for learned codecs and metrics.")
    metric_display: str = Field(
        default="standard_4k",
        description="ColorVideoVDP display model (viewing "
        "condition, pixels per degree) for the cvvdp and flip metrics.",
    )

    host: str = "127.0.0.1"
    port: int = 8000
    worker_concurrency: int = 2
    codec_cache_size: int = 8

    max_upload_bytes: int = 50 * 1024 * 1024  # per file
    max_files_per_upload: int = 200
    max_image_pixels: int = 40_000_000  # decompression-bomb guard, checked before decoding
    max_tasks_per_job: int = 20_000
    max_rate_points_per_request: int = Field(
        default=1000,
        description="Most rate points one POST /api/v1/jobs may name "
        "(summed over its codecs); more -> 422 before anything is stored.",
    )
    max_checkpoint_bytes: int = 200 * 1024 * 1024
    # Rate limits (issue 13, app/services/accounts/rate_limit.py): token buckets of N requests, refilled at N per
    # minute; 0 = no limit. Per web server process; the client IP is uvicorn's (FORWARDED_ALLOW_IPS behind a proxy).
    login_attempts_per_minute: int = Field(default=20, description="POST /login per client IP.")
    login_failures_per_user_per_minute: int = Field(
        default=10, description="Failed logins naming one user name (any IP); beyond it even the right password waits."
    )
    uploads_per_minute: int = Field(
        default=60,
        description="Uploads (image sets, checkpoints, reference curves, "
        "data sets) per client IP and, separately, per user.",
    )
    learned_queue: str = Field(default="cpu", description="Celery queue for learned codecs (gpu with GPU workers).")

    # Accounts (issue 12): the key that signs session cookies. Empty -> generated once and kept in
    # DATA_DIR/secret_key (mode 0600), so the embedded set-up never runs with a fixed, published key.
    secret_key: str = Field(default="", description="Signs session cookies; empty -> generated in DATA_DIR/secret_key.")
    session_max_age: int = Field(default=14 * 24 * 3600, description="Seconds a login stays valid.")
    session_cookie_secure: bool = Field(default=False, description="Send the session cookie over HTTPS only.")
    worker_heartbeat_seconds: float = Field(default=10.0, description="How often a worker writes its heartbeat.")
    # Faults (issue 13): redelivery by the broker, the supervised worker of `licbench run`.
    broker_visibility_timeout_s: float = Field(
        default=7200.0,
        description="Redis broker: a task delivered but not "
        "acknowledged is delivered again after this many seconds; longer "
        "than the longest task (TASK_HARD_TIME_LIMIT_S).",
    )
    embedded_broker_lease_s: float = Field(
        default=30.0,
        description="Embedded broker: a delivered task whose worker "
        "stopped renewing its lease (the worker died) is delivered again after "
        "this many seconds, however long tasks run.",
    )
    worker_restart_max_delay_s: float = Field(
        default=30.0,
        description="`licbench run` restarts a worker or web "
        "server that exited after 1, 2, 4 ... seconds, at most this long.",
    )

    # Task state and sweep (issue 13): engine/task_state.py.
    sweep_interval_s: float = Field(default=30.0, description="How often each worker runs the task sweep.")
    task_stale_s: float = Field(
        default=120.0,
        description="A running task whose heartbeat is older than this "
        "lost its worker: the sweep re-queues it (or fails it after max_attempts).",
    )
    task_redelivery_s: float = Field(
        default=120.0,
        description="Queued tasks older than this are sent again when "
        "no task was claimed meanwhile and none runs (the broker lost its queue).",
    )
    task_max_attempts: int = Field(default=3, description="Claims of one task before the sweep fails it.")
    task_soft_time_limit_s: float = Field(
        default=3600.0,
        description="Celery soft time limit per task: the "
        "remaining rate points are recorded as failed with the reason.",
    )
    task_hard_time_limit_s: float = Field(
        default=3900.0,
        description="Celery hard time limit per task (the process is killed; the sweep re-queues or fails the task).",
    )
    db_retry_max_delay_s: float = Field(
        default=30.0,
        description="Longest back-off between retries of a task's database work while the database is unreachable.",
    )

    # Human studies (issue 9): defaults of POST /api/v1/studies and the scaling.
    study_crop: int = Field(default=512, description="Default square crop side in pixels per source image.")
    study_trials_per_session: int = 40
    study_min_viewing_ms: int = Field(default=1500, description="Time before the participant page accepts an answer.")
    study_trap_trials: int = Field(default=2, description="Hidden trap trials per session (reference vs lowest rate).")
    study_identical_trials: int = Field(default=1, description="Identical-pair trials per session (pairwise).")
    study_bootstrap: int = Field(default=500, description="Bootstrap resamples of observers for the JOD intervals.")

    # Metric analysis (issue 10): IQA data set import and correlation reports.
    max_dataset_bytes: int = Field(
        default=8 * 1024**3, description="Largest IQA data set zip accepted (far above the image upload limit)."
    )
    max_dataset_unpacked_bytes: int = Field(
        default=40 * 1024**3, description="Largest total size a data set zip may unpack to."
    )
    max_dataset_files: int = Field(default=200_000, description="Most entries a data set zip may hold.")
    dataset_chunk_images: int = Field(default=16, description="Distorted images scored per worker task.")
    correlation_bootstrap: int = Field(
        default=1000, description="Bootstrap resamples (source images) for correlation intervals."
    )

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'licbench.sqlite').resolve()}"

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{(self.data_dir / 'broker.sqlite').resolve()}"

    @property
    def resolved_secret_key(self) -> str:
        """SECRET_KEY, or a random key generated once under ``data_dir`` (readable by this user only)."""
        if self.secret_key:
            return self.secret_key
        import os
        import secrets

        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.data_dir / f".secret_key-{os.getpid()}-{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)  # atomic: complete or absent; the first process to link wins
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def reconstructions_dir(self) -> Path:
        return self.data_dir / "reconstructions"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (read once from the environment)."""
    return Settings()
