"""Errors as a browser should see them: an HTML page for page requests, JSON for the API and other clients.

Paths under ``/api/`` always answer JSON (the REST contract). Any other path answers an HTML error page when the
request's ``Accept`` header asks for ``text/html`` (what browsers send for a navigation), with a login link when
the visitor is logged out, and JSON otherwise (scripts, curl).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from fastapi import Request
from fastapi.responses import JSONResponse, Response

API_PREFIX = "/api/"
# Statuses where logging in may be the way on: 401/403, and 404, which hides private objects from strangers.
LOGIN_MAY_HELP = {401, 403, 404}


def wants_html(request: Request) -> bool:
    """True for a page request from a browser: not under /api/, and ``Accept`` names text/html."""
    if request.url.path.startswith(API_PREFIX):
        return False
    return "text/html" in request.headers.get("accept", "").lower()


def _title(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"Error {status}"


def error_response(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None, extra: dict | None = None
) -> Response:
    """The error as an HTML page for a browser's page request, else as the API's ``{"detail": ...}`` JSON."""
    if not wants_html(request):
        return JSONResponse({"detail": message, **(extra or {})}, status_code=status, headers=headers)
    from app.api.routes.pages import current_login, templates

    try:
        logged_in = current_login(request) is not None
    except Exception:  # the database is away (a 503): still show the page, without the account part
        request.state.login = None
        logged_in = False
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "status": status,
            "title": _title(status),
            "message": message,
            "login_hint": status in LOGIN_MAY_HELP and not logged_in,
        },
        status_code=status,
        headers=headers,
    )
