"""Rate-limit dependencies of the routes: uploads per client IP and per user, logins per IP and per user name.

The buckets (``app.services.accounts.rate_limit``) belong to the application object (``app.state.rate_limiter``), so
each server process, and each in-process test app, starts with full buckets. A refused request gets
``429 {"detail": ...}`` with ``Retry-After`` (seconds) before its body is decoded or anything is stored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.api.deps import CurrentUser
from app.db.tables import User
from app.services.accounts.rate_limit import Rate, RateLimiter, refuse_if_empty, require
from app.settings import get_settings


def limiter_of(request: Request) -> RateLimiter:
    """The application's limiter (made on first use)."""
    state = request.app.state
    limiter = getattr(state, "rate_limiter", None)
    if limiter is None:
        limiter = state.rate_limiter = RateLimiter()
    return limiter


def client_ip(request: Request) -> str:
    """The client's address as the server sees it (uvicorn's, after FORWARDED_ALLOW_IPS proxies)."""
    return request.client.host if request.client else "unknown"


def limit_uploads(request: Request, user: CurrentUser) -> User:
    """One token from the client IP's and the user's upload buckets (``UPLOADS_PER_MINUTE`` each), or 429."""
    rate = Rate(get_settings().uploads_per_minute)
    require(
        limiter_of(request), "uploads", [(f"upload-ip:{client_ip(request)}", rate), (f"upload-user:{user.id}", rate)]
    )
    return user


UploadingUser = Annotated[User, Depends(limit_uploads)]


def _login_rates() -> tuple[Rate, Rate]:
    settings = get_settings()
    return Rate(settings.login_attempts_per_minute), Rate(settings.login_failures_per_user_per_minute)


def _user_key(name: str) -> str:
    return f"login-user:{(name or '').strip().casefold()}"


def check_login_attempt(request: Request, name: str) -> None:
    """Before a password is checked: one token from the IP's login bucket, and the user name's failure bucket
    must not be empty (so guessing one account from many addresses stops too), else 429."""
    ip_rate, user_rate = _login_rates()
    limiter = limiter_of(request)
    refuse_if_empty(limiter, "failed logins for this user", [(_user_key(name), user_rate)])
    require(limiter, "login attempts from this address", [(f"login-ip:{client_ip(request)}", ip_rate)])


def record_login_failure(request: Request, name: str) -> None:
    """A wrong password or unknown user name costs one token of that name's failure bucket."""
    limiter_of(request).charge(_user_key(name), _login_rates()[1])
