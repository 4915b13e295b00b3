"""Login sessions, CSRF tokens and who may see or change what.

Session cookie: ``{"uid", "csrf", "pw"}`` signed with itsdangerous (HMAC-SHA1 over the settings' secret key,
timestamped, expires after ``SESSION_MAX_AGE``), sent HttpOnly and SameSite=Lax. ``pw`` is a fingerprint of the
password hash, so setting a new password ends every older login. Form posts carry the session's CSRF token
(synchroniser token pattern, OWASP CSRF cheat sheet); the anonymous login form gets a signed token in its own
cookie (signed double submit). Bearer-token requests are exempt: browsers never send them by themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.db.tables import ImageSet, Job, User
from app.services.errors import Forbidden, Unauthenticated
from app.settings import get_settings

SESSION_COOKIE = "licbench_session"
LOGIN_CSRF_COOKIE = "licbench_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC, PRIVATE = "public", "private"
VISIBILITIES = (PRIVATE, PUBLIC)


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().resolved_secret_key, salt=salt)


def _password_fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LoginSession:
    """A verified session cookie: whose it is and its CSRF token."""

    user: User
    csrf: str


def session_cookie(user: User) -> str:
    """A new signed session cookie value for ``user`` (a fresh CSRF token each login)."""
    return _serializer("session").dumps(
        {"uid": user.id, "csrf": secrets.token_urlsafe(24), "pw": _password_fingerprint(user)}
    )


def read_session(session: Session, cookie: str | None) -> LoginSession | None:
    """The login behind ``cookie`` if it is signed by us, unexpired and its password unchanged; else None."""
    if not cookie:
        return None
    try:
        data = _serializer("session").loads(cookie, max_age=get_settings().session_max_age)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user = session.get(User, data.get("uid"))
    if user is None or not hmac.compare_digest(str(data.get("pw", "")), _password_fingerprint(user)):
        return None
    return LoginSession(user=user, csrf=str(data.get("csrf", "")))


def login_csrf_cookie() -> str:
    """A signed random token for the anonymous login form (its cookie and its hidden field carry it)."""
    return _serializer("login-csrf").dumps(secrets.token_urlsafe(24))


def check_login_csrf(cookie: str | None, field: str | None) -> None:
    """403 unless the login form's hidden field equals its cookie and the cookie is ours (< 1 day old)."""
    if not cookie or not field or not hmac.compare_digest(cookie, field):
        raise Forbidden("the login form expired or was not sent by this site; reload the page")
    try:
        _serializer("login-csrf").loads(cookie, max_age=24 * 3600)
    except BadSignature:
        raise Forbidden("the login form expired or was not sent by this site; reload the page") from None


def check_csrf(login: LoginSession, sent: str | None) -> None:
    """403 unless ``sent`` (form field or ``X-CSRF-Token`` header) is the session's CSRF token."""
    if not sent or not hmac.compare_digest(sent, login.csrf):
        raise Forbidden(
            f"missing or wrong CSRF token: pages send it in the '{CSRF_FIELD}' form field or the "
            f"'{CSRF_HEADER}' header (REST clients use 'Authorization: Bearer' instead)"
        )


# ---- who may see or change what ---------------------------------------------------------------------------


def is_admin(user: User | None) -> bool:
    return user is not None and user.role == "admin"


def can_view_image_set(user: User | None, image_set: ImageSet) -> bool:
    """Public sets: everyone; private sets: their owner and admins."""
    return image_set.visibility == PUBLIC or is_admin(user) or (user is not None and image_set.owner_id == user.id)


def require_view_image_set(user: User | None, image_set: ImageSet) -> None:
    """401 for anonymous visitors and 403 for other users when the image set is private."""
    if not can_view_image_set(user, image_set):
        if user is None:
            raise Unauthenticated(
                f"image set {image_set.id} is private: log in (session cookie or "
                "'Authorization: Bearer <token>') to see it"
            )
        raise Forbidden(f"image set {image_set.id} is private to its owner")


def require_view_job(user: User | None, job: Job) -> None:
    """A job is visible where its image set is."""
    require_view_image_set(user, job.image_set)


def require_owner(user: User, owner_id: int | None, what: str) -> None:
    """403 unless ``user`` owns the thing (``owner_id``) or is an admin."""
    if not is_admin(user) and owner_id != user.id:
        raise Forbidden(f"{what} belongs to another user; only its owner or an admin may change it")


def visible_image_sets_clause(user: User | None):
    """A WHERE clause selecting the image sets ``user`` may see."""
    if is_admin(user):
        return ImageSet.id.is_not(None)
    if user is None:
        return ImageSet.visibility == PUBLIC
    return or_(ImageSet.visibility == PUBLIC, ImageSet.owner_id == user.id)


def visible_image_set_ids(user: User | None):
    """A subquery of the ids of image sets ``user`` may see (for filtering jobs)."""
    return select(ImageSet.id).where(visible_image_sets_clause(user))
