"""Fault tests: real server, worker and broker processes killed mid-job (marker ``faults``, `make test-faults`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults import FaultStack, RedisProcess, new_stack, persistent_redis
from tests.support.servers import fresh_database

# Shorter than production so the tests wait seconds, not minutes; still longer than any task they run
# (a task here is one small image x one classical codec, well under a second of work).
EMBEDDED_LEASE_S = "6"
REDIS_VISIBILITY_TIMEOUT_S = "10"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: processes killed mid-job on real servers (tests/faults)")


@pytest.fixture(scope="package")
def embedded_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    """Server + one-process worker on the embedded defaults (SQLite database, SQLite broker)."""
    data_dir = tmp_path_factory.mktemp("embedded") / "data"
    data_dir.mkdir(parents=True)
    stack = new_stack(
        f"sqlite:///{data_dir / 'licbench.sqlite'}",
        f"sqla+sqlite:///{data_dir / 'broker.sqlite'}",
        data_dir,
        EMBEDDED_BROKER_LEASE_S=EMBEDDED_LEASE_S,
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="package")
def redis_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    with persistent_redis(tmp_path_factory.mktemp("redis")) as redis:
        yield redis


@pytest.fixture(scope="package")
def redis_stack(
    redis_broker: RedisProcess, real_servers: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultStack]:
    """Server + one-process worker on PostgreSQL and a persistent Redis.

    Its database is a fresh one on the session's PostgreSQL server (no fault test stops PostgreSQL), which saves
    a second initdb and server start-up."""
    data_dir: Path = tmp_path_factory.mktemp("redis-stack") / "data"
    database_url = fresh_database(real_servers[0], "faults")
    stack = new_stack(database_url, redis_broker.url, data_dir, BROKER_VISIBILITY_TIMEOUT_S=REDIS_VISIBILITY_TIMEOUT_S)
    try:
        stack.start()
        yield stack
    finally:
        stack.close()
