"""API tokens for REST clients (bearer auth). Only a token's SHA-256 is stored."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.tables import ApiToken
from app.services.errors import ServiceError

TOKEN_PREFIX = "lb_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, name: str) -> str:
    """Store a new token for ``name`` and return it (shown once, never stored in clear)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_sha256=_digest(token)))
    session.flush()
    return token


def authenticate(session: Session, token: str | None) -> ApiToken:
    """The stored token whose SHA-256 matches ``token`` (the bearer credential), or 401."""
    if not token:
        raise ServiceError("missing API token: send 'Authorization: Bearer <token>' "
                           "(create one with `licbench token create --name NAME`)", 401)
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token.strip())))
    if row is None:
        raise ServiceError("invalid API token", 401)
    return row
