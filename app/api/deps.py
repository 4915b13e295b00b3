"""Request-scoped dependencies."""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from app.db.session import session_scope
from app.services.storage import LocalStorage, default_storage


def db_session() -> Iterator[Session]:
    """A session per request: committed when the route returns normally, rolled back otherwise."""
    with session_scope() as session:
        yield session


def storage() -> LocalStorage:
    return default_storage()
