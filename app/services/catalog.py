"""What codecs and metrics this service offers, with availability (built from the registries on request)."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.tables import SubmittedModel
from app.services.storage import default_storage
from app.settings import get_settings
from metrics.base import Metric, MetricContext
from metrics.registry import build_metrics
from models.base import Codec, CodecContext
from models.network_cache import NetworkCache
from models.registry import build_codecs
from models.submitted import submitted_codec


@lru_cache(maxsize=4)
def _codec_context_on(weights_dir, device: str, cache_size: int) -> CodecContext:
    return CodecContext(weights_dir=weights_dir, device=device, networks=NetworkCache(cache_size))


def codec_context() -> CodecContext:
    """The configured weights folder and device, and one network cache of ``CODEC_CACHE_SIZE`` per
    process and settings, shared by registered and submitted codecs."""
    settings = get_settings()
    return _codec_context_on(settings.weights_dir, settings.device, settings.codec_cache_size)


@lru_cache(maxsize=1)
def registry_codecs() -> dict[str, Codec]:
    """Every registered codec, built once per process (weights load lazily into the network cache)."""
    return build_codecs(codec_context())


def submitted_codecs(session: Session) -> dict[str, Codec]:
    """Codecs made of checkpoints submitted over REST, grouped by name."""
    storage = default_storage()
    grouped: dict[str, list[SubmittedModel]] = {}
    for row in session.scalars(select(SubmittedModel).order_by(SubmittedModel.name, SubmittedModel.rate_point)):
        grouped.setdefault(row.name, []).append(row)
    return {
        name: submitted_codec(
            name, rows[0].architecture, {r.rate_point: storage.path(r.checkpoint_key) for r in rows}, codec_context()
        )
        for name, rows in grouped.items()
    }


def codecs(session: Session) -> dict[str, Codec]:
    """Registered and submitted codecs by name."""
    return {**registry_codecs(), **submitted_codecs(session)}


def number(value: float) -> int | float:
    """Rate points as JSON numbers: integers stay integers."""
    return int(value) if float(value).is_integer() else float(value)


@lru_cache(maxsize=4)
def _metrics_on(context: MetricContext) -> dict[str, Metric]:
    return build_metrics(context)


def registry_metrics() -> dict[str, Metric]:
    """Every registered metric on the configured weights folder and device, built once per process
    and settings (learned metrics keep their loaded network between tasks)."""
    settings = get_settings()
    return _metrics_on(
        MetricContext(weights_dir=settings.weights_dir, device=settings.device, display=settings.metric_display)
    )
