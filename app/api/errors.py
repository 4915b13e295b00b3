"""The one place domain errors (``app.services.errors``) become HTTP answers: ``{"detail": message}`` with the
status of the most specific class below."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.services.errors import (Conflict, Forbidden, Invalid, NotFound, NotSupported, ServiceError, TooLarge,
                                 Unauthenticated, Unavailable)

STATUS: dict[type[ServiceError], int] = {
    Invalid: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unauthenticated: 401,
    TooLarge: 413,
    Unavailable: 503,
    NotSupported: 501,
}


def status_of(exc: ServiceError) -> int:
    """The HTTP status for ``exc``: an explicit ``status_code`` (older code), else its class's, else 400."""
    if exc.status_code is not None:
        return exc.status_code
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def install(app: FastAPI) -> None:
    """Answer every ``ServiceError`` a route lets through with its status and message."""

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=status_of(exc),
                            headers=getattr(exc, "headers", None))  # e.g. Retry-After of a 429
