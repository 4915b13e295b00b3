"""Log in and out (session cookie), API tokens of users: pages and REST (issue 12)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from app.api import rate_limits
from app.api.deps import CurrentUser, LoginDep, SessionDep
from app.api.routes.pages import templates
from app.services.accounts import auth, tokens, users
from app.services.errors import Unauthenticated
from app.settings import get_settings

pages_router = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1", tags=["accounts"])


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a login to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _set_cookie(response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=get_settings().session_cookie_secure,
        path="/",
    )


def _login_page(request: Request, next_path: str, error: str = "", status_code: int = 200) -> HTMLResponse:
    csrf = auth.login_csrf_cookie()
    response = templates.TemplateResponse(
        request, "login.html", {"next": next_path, "error": error, "login_csrf": csrf}, status_code=status_code
    )
    _set_cookie(response, auth.LOGIN_CSRF_COOKIE, csrf, 24 * 3600)
    return response


@pages_router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/"):
    return _login_page(request, _safe_next(next))


@pages_router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    name: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form("/"),
):
    """Check the login form's CSRF token and the password; set the session cookie and go to ``next``."""
    auth.check_login_csrf(request.cookies.get(auth.LOGIN_CSRF_COOKIE), csrf_token)
    rate_limits.check_login_attempt(request, name)  # 429 + Retry-After past the IP's or the name's limit
    user = users.authenticate(session, name, password)
    if user is None:
        rate_limits.record_login_failure(request, name)
        return _login_page(request, _safe_next(next), "Unknown user or wrong password.", status.HTTP_401_UNAUTHORIZED)
    response = RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    _set_cookie(response, auth.SESSION_COOKIE, auth.session_cookie(user), get_settings().session_max_age)
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/")
    return response


@pages_router.post("/logout")
def logout(login: LoginDep, csrf_token: str = Form("")):
    """End the session (CSRF-checked, so other sites cannot log people out)."""
    if login is not None:
        auth.check_csrf(login, csrf_token)
    response = RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


def _tokens_page(request: Request, session, login, created: str | None = None):
    return templates.TemplateResponse(
        request, "tokens.html", {"tokens": tokens.list_tokens(session, login.user), "created": created}
    )


def _login_or_redirect(login, path: str):
    if login is None:
        return RedirectResponse(f"/login?next={path}", status_code=status.HTTP_303_SEE_OTHER)
    return None


@pages_router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, session: SessionDep, login: LoginDep):
    return _login_or_redirect(login, "/tokens") or _tokens_page(request, session, login)


@pages_router.post("/tokens", response_class=HTMLResponse)
def tokens_create(
    request: Request, session: SessionDep, login: LoginDep, name: str = Form(""), csrf_token: str = Form("")
):
    """Create a token for the logged-in user; the page shows it once."""
    if login is None:
        raise Unauthenticated("log in first")
    auth.check_csrf(login, csrf_token)
    created = tokens.create_token(session, name, user=login.user)
    session.commit()
    return _tokens_page(request, session, login, created)


@pages_router.post("/tokens/{token_id}/revoke")
def tokens_revoke(token_id: int, session: SessionDep, login: LoginDep, csrf_token: str = Form("")):
    if login is None:
        raise Unauthenticated("log in first")
    auth.check_csrf(login, csrf_token)
    tokens.revoke_token(session, login.user, token_id)
    session.commit()  # the redirected page must show it revoked
    return RedirectResponse("/tokens", status_code=status.HTTP_303_SEE_OTHER)


# ---- REST ------------------------------------------------------------------------------------------------


class UserOut(BaseModel):
    id: int
    name: str
    role: str


class TokenOut(BaseModel):
    id: int
    name: str
    user: str | None
    created_at: datetime
    revoked_at: datetime | None


class TokenRequest(BaseModel):
    name: str = Field(description="A label for the token, e.g. the machine that uses it")


class TokenCreated(TokenOut):
    token: str = Field(description="The bearer token; shown only in this answer")


def _token_out(row) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "user": row.user.name if row.user else None,
        "created_at": row.created_at,
        "revoked_at": row.revoked_at,
    }


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    """Who the credentials (bearer token or session cookie) belong to."""
    return UserOut(id=user.id, name=user.name, role=user.role)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(session: SessionDep, user: CurrentUser) -> list[dict]:
    """The caller's API tokens (admins: all), newest first; never their values."""
    return [_token_out(row) for row in tokens.list_tokens(session, user)]


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_token(body: TokenRequest, session: SessionDep, user: CurrentUser) -> dict:
    """A new bearer token for the caller (its value is in this answer only)."""
    value = tokens.create_token(session, body.name, user=user)
    row = tokens.authenticate(session, value)
    session.commit()  # usable by the client's next request
    return {**_token_out(row), "token": value}


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: int, session: SessionDep, user: CurrentUser) -> None:
    """Revoke a token (the caller's own; admins any); it stops working at once."""
    tokens.revoke_token(session, user, token_id)
    session.commit()
