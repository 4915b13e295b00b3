"""API tokens for REST clients (bearer auth). Only a token's SHA-256 is stored; every token belongs to a user."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.tables import ApiToken, User
from app.services.errors import Forbidden, Invalid, NotFound, Unauthenticated

TOKEN_PREFIX = "lb_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, name: str, user: User | None = None) -> str:
    """Store a new token called ``name`` for ``user`` and return it (shown once, never stored in clear).

    Without ``user`` (``licbench token create --name NAME``, as before accounts) the token belongs to the first
    admin, created without a usable password if there is none."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid("token name must be 1-100 characters")
    if user is None:
        from app.services.accounts.users import first_admin

        user = first_admin(session)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_sha256=_digest(token), user_id=user.id))
    session.flush()
    return token


def authenticate(session: Session, token: str | None) -> ApiToken:
    """The stored, unrevoked token whose SHA-256 matches ``token`` (the bearer credential), or 401."""
    if not token:
        raise Unauthenticated(
            "missing API token: send 'Authorization: Bearer <token>' "
            "(create one with `licbench token create --user NAME`)"
        )
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _digest(token.strip())))
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("invalid API token" if row is None else "API token was revoked")
    return row


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """The tokens of ``user`` (all tokens for an admin), newest first."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user.role != "admin":
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke a token of ``user`` (admins: any token); it stops authenticating at once. Kept as a row because
    submitted models name the token they came with."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"token {token_id} does not exist")
    if user.role != "admin" and row.user_id != user.id:
        raise Forbidden(f"token {token_id} belongs to another user")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.flush()
    return row
