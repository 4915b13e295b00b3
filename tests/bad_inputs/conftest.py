"""Fixtures of the hostile-input tests: an authorised in-process client and a snapshot of what is stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.accounts import authorize


@pytest.fixture
def client(api):
    """The in-process app (SQLite, embedded broker) sending a member's bearer token."""
    authorize(api, "mallory")
    return api


def _stored(data_dir: Path) -> tuple[dict[str, int], list[str]]:
    from sqlalchemy import func, select

    from app.db.session import session_scope
    from app.db.tables import Base

    with session_scope() as session:
        counts = {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }
    files = sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file() and ".sqlite" not in p.name)
    return counts, files


@pytest.fixture
def stored(settings_env: Path) -> Callable[[], tuple[dict[str, int], list[str]]]:
    """``stored()``: rows per table and the files under DATA_DIR (database files left out)."""
    return lambda: _stored(settings_env)


@pytest.fixture
def nothing_stored(stored):
    """Asserts, after the test body, that the rows and files are exactly those before it."""
    before = stored()
    yield
    assert stored() == before, "a rejected request stored something"
