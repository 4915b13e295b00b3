"""What codecs and metrics this service offers, with availability (built from the registries on request)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

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


class Catalog:
    """The per-process builds behind the catalogue: the codec context (one network cache of ``CODEC_CACHE_SIZE``
    per weights folder, device and size), the registered codecs (built once; weights load lazily into the network
    cache) and the registered metrics per weights folder, device and display (learned metrics keep their loaded
    network between tasks). One per process (:data:`offered`); a test calls :meth:`reset` or makes its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._contexts: dict[tuple[Path, str, int], CodecContext] = {}
        self._codecs: dict[str, Codec] | None = None
        self._metrics: dict[MetricContext, dict[str, Metric]] = {}

    def codec_context(self, weights_dir: Path, device: str, cache_size: int) -> CodecContext:
        key = (weights_dir, device, cache_size)
        with self._lock:
            if key not in self._contexts:
                _make_room(self._contexts)
                self._contexts[key] = CodecContext(
                    weights_dir=weights_dir, device=device, networks=NetworkCache(cache_size)
                )
            return self._contexts[key]

    def registry_codecs(self, context: Callable[[], CodecContext]) -> dict[str, Codec]:
        """The registered codecs, built on ``context()`` the first time."""
        with self._lock:
            built = self._codecs
        if built is None:
            built = build_codecs(context())
            with self._lock:
                self._codecs = built = self._codecs or built
        return built

    def registry_metrics(self, context: MetricContext) -> dict[str, Metric]:
        with self._lock:
            built = self._metrics.get(context)
        if built is None:
            built = build_metrics(context)
            with self._lock:
                if context not in self._metrics:
                    _make_room(self._metrics)
                built = self._metrics.setdefault(context, built)
        return built

    def reset(self) -> None:
        """Forget the registered codecs: the next call builds them afresh (after a test changed the settings). The
        codec contexts and metric builds are keyed by their settings and kept, with the networks they loaded; a
        fresh :class:`Catalog` forgets those too."""
        with self._lock:
            self._codecs = None


offered = Catalog()
KEPT_SETTINGS = 4  # builds kept per kind (settings change only in tests and across a restart)


def _make_room(builds: dict) -> None:
    """Drop the oldest build once :data:`KEPT_SETTINGS` are kept."""
    while len(builds) >= KEPT_SETTINGS:
        builds.pop(next(iter(builds)))


def codec_context() -> CodecContext:
    """The configured weights folder and device, and one network cache of ``CODEC_CACHE_SIZE`` per
    process and settings, shared by registered and submitted codecs."""
    settings = get_settings()
    return offered.codec_context(settings.weights_dir, settings.device, settings.codec_cache_size)


def registry_codecs() -> dict[str, Codec]:
    """Every registered codec, built once per process (weights load lazily into the network cache)."""
    return offered.registry_codecs(codec_context)


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


def registry_metrics() -> dict[str, Metric]:
    """Every registered metric on the configured weights folder and device, built once per process
    and settings (learned metrics keep their loaded network between tasks)."""
    settings = get_settings()
    return offered.registry_metrics(
        MetricContext(weights_dir=settings.weights_dir, device=settings.device, display=settings.metric_display)
    )
