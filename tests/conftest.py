"""Shared fixtures: settings on a temp data dir, in-process app on SQLite, real servers for integration."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import postgres_server, redis_server
from tests.support.stack import Stack, running_stack

# Tests are organised by layer; the folder sets the marker, so `-m` selects a layer.
LAYER_MARKERS = {
    "unit": "unit",
    "cli": "cli",
    "api": "api",
    "integration": "integration",
    "browser": "browser",
    "bad_inputs": "bad_inputs",
    "faults": "faults",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).resolve().parent
    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(root).parts
        marker = LAYER_MARKERS.get(parts[0]) if len(parts) > 1 else None
        if marker:
            item.add_marker(getattr(pytest.mark, marker))
        if marker == "browser":
            item.add_marker(pytest.mark.integration)  # browser tests drive the real stack too


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point licbench's settings at a fresh data dir with embedded SQLite DB and broker."""
    from app.services.jobs import catalog
    from app.settings import get_settings
    from engine import queue

    data_dir = tmp_path / "data"
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("BROKER_URL", raising=False)
    get_settings.cache_clear()
    catalog.offered.reset()
    yield data_dir
    get_settings.cache_clear()
    catalog.offered.reset()
    queue.clients.reset()  # this test's broker URL is not used again
    if (studies := sys.modules.get("app.services.studies.studies")) is not None:  # loaded only by study tests
        studies.scale_locks.reset()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated to head by the real Alembic chain, made once per session.

    Each ``api`` test starts from a copy of this file: running the whole migration chain per test cost about
    a second each (several minutes over the suite). The migrations themselves are tested in tests/cli.
    """
    from alembic import command

    from app.db.migrate import alembic_config

    template = tmp_path_factory.mktemp("migrated") / "licbench.sqlite"
    command.upgrade(alembic_config(f"sqlite:///{template}"), "head")
    return template


@pytest.fixture
def api(settings_env: Path, migrated_sqlite: Path):
    """The FastAPI app in-process on a migrated SQLite database (embedded broker)."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    # A copy of the session's freshly migrated database is the same file `upgrade_to_head()` would write here.
    settings_env.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(migrated_sqlite, settings_env / "licbench.sqlite")
    with TestClient(create_app()) as client:
        # Mutating routes need a user (issue 12): the client speaks as the member "tester" with a bearer token
        # (tests.support.accounts makes other users and anonymous clients).
        from tests.support.accounts import authorize

        authorize(client, "tester")
        yield client


@pytest.fixture(scope="session")
def real_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Real PostgreSQL and Redis servers on loopback, for the whole session."""
    base = tmp_path_factory.mktemp("servers")
    with postgres_server() as database_url, redis_server(base / "redis") as broker_url:
        yield database_url, broker_url


@pytest.fixture(scope="session")
def production_stack(real_servers: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Web server + Celery worker processes on real PostgreSQL and Redis."""
    database_url, broker_url = real_servers
    # A loaded machine (shared cores) can take over a minute to import torch in the server process.
    with running_stack(database_url, broker_url, tmp_path_factory.mktemp("stack-data"), startup_timeout=240) as stack:
        yield stack
