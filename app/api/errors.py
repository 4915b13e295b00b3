"""The one place domain errors (``app.services.errors``) become HTTP answers: ``{"detail": message}`` with the
status of the most specific class below, or an HTML error page when a browser asked for a page
(``app.api.error_pages``); framework errors (unknown paths, wrong methods) go the same way."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.error_pages import error_response, wants_html
from app.services.accounts.rate_limit import RateLimited
from app.services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    NotSupported,
    ServiceError,
    TooLarge,
    Unauthenticated,
    Unavailable,
)

STATUS: dict[type[ServiceError], int] = {
    Invalid: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unauthenticated: 401,
    TooLarge: 413,
    Unavailable: 503,
    NotSupported: 501,
    RateLimited: 429,
}


def status_of(exc: ServiceError) -> int:
    """The HTTP status for ``exc``: that of its most specific class in ``STATUS``, else 400."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def headers_of(exc: ServiceError) -> dict[str, str] | None:
    """Headers the answer to ``exc`` carries: a 429 says when to try again (``Retry-After``, RFC 9110 10.2.3)."""
    if isinstance(exc, RateLimited):
        return {"Retry-After": str(exc.retry_after)}
    return None


def install(app: FastAPI) -> None:
    """Answer every ``ServiceError`` a route lets through with its status and message."""

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        return error_response(request, status_of(exc), exc.message, headers=headers_of(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Unknown paths (404), wrong methods (405) and framework errors: a page for browsers, JSON otherwise."""
        if wants_html(request):
            return error_response(request, exc.status_code, str(exc.detail), headers=exc.headers)
        return await http_exception_handler(request, exc)
