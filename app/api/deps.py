"""Request-scoped dependencies, as type aliases routes declare (FastAPI full-stack template's ``deps.py``).

``SessionDep`` (a database session per request), ``StorageDep`` (blob storage), ``CurrentToken`` (the API token
named by ``Authorization: Bearer ...``), ``CurrentUser`` / ``OptionalUser`` (bearer token or session cookie) and ``Pagination`` (``limit``/``offset`` query
parameters plus the ``X-Total-Count`` header of list endpoints).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Select
from sqlalchemy.orm import Session

from app.db.session import session_scope
from app.db.tables import ApiToken, User
from app.services.accounts import auth, tokens
from app.services.errors import Unauthenticated
from app.services.storage import LocalStorage, default_storage

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
TOTAL_COUNT_HEADER = "X-Total-Count"

T = TypeVar("T")


def get_session() -> Iterator[Session]:
    """A session per request: committed when the route returns normally, rolled back otherwise."""
    with session_scope() as session:
        yield session


def get_storage() -> LocalStorage:
    """The configured blob storage (local disk under ``DATA_DIR``)."""
    return default_storage()


SessionDep = Annotated[Session, Depends(get_session)]
StorageDep = Annotated[LocalStorage, Depends(get_storage)]

_bearer = HTTPBearer(auto_error=False, description="API token from `licbench token create --name NAME`")


def get_current_token(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> ApiToken:
    """The stored token named by ``Authorization: Bearer <token>``; 401 JSON when missing or unknown."""
    return tokens.authenticate(session, credentials.credentials if credentials else None)


CurrentToken = Annotated[ApiToken, Depends(get_current_token)]


def get_login(request: Request, session: SessionDep) -> auth.LoginSession | None:
    """The verified session cookie of this request, if any (no CSRF check: page routes check their form)."""
    return auth.read_session(session, request.cookies.get(auth.SESSION_COOKIE))


LoginDep = Annotated[auth.LoginSession | None, Depends(get_login)]


def get_optional_user(
    request: Request,
    session: SessionDep,
    login: LoginDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """Who is asking: the owner of the bearer token (an invalid or revoked one is a 401), else the user of the
    session cookie, else None. Cookie-authenticated requests that change things must carry the session's
    CSRF token in the ``X-CSRF-Token`` header (pages' scripts add it; see ``static/csrf.js``)."""
    if credentials is not None:
        token = tokens.authenticate(session, credentials.credentials)
        if token.user is None:
            raise Unauthenticated("API token has no owner; create a new one with `licbench token create --user NAME`")
        request.state.user = token.user
        return token.user
    if login is None:
        return None
    if request.method not in auth.SAFE_METHODS:
        auth.check_csrf(login, request.headers.get(auth.CSRF_HEADER))
    request.state.user = login.user
    return login.user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def get_current_user(user: OptionalUser) -> User:
    """The authenticated user (session cookie or bearer token); 401 JSON without credentials."""
    if user is None:
        raise Unauthenticated(
            "log in first: send 'Authorization: Bearer <token>' (`licbench token create --user NAME`) "
            "or use the session cookie from /login"
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint: ``limit`` rows from ``offset``; the total goes in ``X-Total-Count``."""

    limit: int
    offset: int
    response: Response

    def set_total(self, total: int) -> None:
        """Announce how many rows exist in all (before paging) in the ``X-Total-Count`` header."""
        self.response.headers[TOTAL_COUNT_HEADER] = str(total)

    def apply(self, statement: Select) -> Select:
        """``statement`` limited to this page (ORDER BY must already make the order stable)."""
        return statement.limit(self.limit).offset(self.offset)

    def slice(self, items: Sequence[T]) -> list[T]:
        """This page of an in-memory sequence; also sets ``X-Total-Count`` to ``len(items)``."""
        self.set_total(len(items))
        return list(items[self.offset : self.offset + self.limit])


def get_page(
    response: Response,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="Rows to skip")] = 0,
) -> Page:
    """``limit`` (1..10000, default 1000) and ``offset`` (>= 0) query parameters; out of range -> 422."""
    return Page(limit=limit, offset=offset, response=response)


Pagination = Annotated[Page, Depends(get_page)]
