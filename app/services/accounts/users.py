"""Users: argon2id password hashes (argon2-cffi, RFC 9106 parameters), roles ``admin`` and ``member``."""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.tables import User
from app.services.errors import Conflict, Invalid, NotFound

ROLES = ("admin", "member")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MIN_PASSWORD_LENGTH = 8
UNUSABLE_PREFIX = "!"  # argon2 hashes start with "$argon2"; a "!..." hash matches no password
DEMO_ADMIN = "demo-admin"

_hasher = PasswordHasher()  # argon2id, RFC 9106 "low memory" profile (argon2-cffi's default)


def hash_password(password: str) -> str:
    """An argon2id hash (salt and parameters inside the string)."""
    return _hasher.hash(password)


def unusable_password_hash() -> str:
    """A hash that no password matches (accounts whose password has not been set)."""
    return UNUSABLE_PREFIX + secrets.token_hex(16)


def verify_password(user: User, password: str) -> bool:
    """Whether ``password`` is ``user``'s; constant-time inside argon2, False for unusable hashes."""
    if not user.password_hash or user.password_hash.startswith(UNUSABLE_PREFIX):
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password (about 120 bits) for accounts created without one."""
    return secrets.token_urlsafe(15)


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise Invalid("password is longer than 1024 characters")
    return password


def find_user(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def require_user(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


def create_user(session: Session, name: str, password: str | None, role: str = "member") -> User:
    """Store a new user; ``password`` None leaves the account without a usable password."""
    name = (name or "").strip()
    if not NAME_PATTERN.match(name):
        raise Invalid(
            "user name must be 1-100 characters: letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        )
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    if find_user(session, name) is not None:
        raise Conflict(f"user {name!r} already exists")
    user = User(
        name=name,
        role=role,
        password_hash=hash_password(_check_password(password)) if password is not None else unusable_password_hash(),
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(_check_password(password))
    session.flush()


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The user named ``name`` if ``password`` is theirs, else None (same work either way)."""
    user = find_user(session, (name or "").strip())
    if user is None:
        verify_password(User(password_hash=_dummy_hash()), password or "")  # same cost as a real check
        return None
    return user if verify_password(user, password or "") else None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(8))


def first_admin(session: Session) -> User:
    """The oldest admin; an ``admin`` account without a usable password is created when none exists."""
    admin = session.scalar(select(User).where(User.role == "admin").order_by(User.id).limit(1))
    if admin is None:
        name = "admin" if find_user(session, "admin") is None else f"admin-{secrets.token_hex(3)}"
        admin = create_user(session, name, None, role="admin")
    return admin


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def ensure_demo_admin(session: Session) -> tuple[User, str | None]:
    """The demo admin, with a freshly generated password when it has none yet (returned once, else None)."""
    user = find_user(session, DEMO_ADMIN)
    if user is None:
        password = generate_password()
        return create_user(session, DEMO_ADMIN, password, role="admin"), password
    if user.password_hash.startswith(UNUSABLE_PREFIX):
        password = generate_password()
        set_password(session, user, password)
        return user, password
    return user, None
