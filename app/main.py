"""Builds the FastAPI application: REST API under /api/v1, pages, static files."""

from __future__ import annotations

import errno
import gc
import os
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.api.docs import install_offline_docs
from app.api.error_pages import error_response
from app.api.errors import install as install_error_answers
from app.api.routes import (
    analysis,
    image_sets,
    iqa_datasets,
    jobs,
    leaderboard,
    models,
    pages,
    pages_analysis,
    pages_catalogue,
    pages_studies,
    reference_curves,
    studies,
    system,
    vendor,
    viewer,
)
from app.api.routes import auth as auth_routes
from app.api.security import install_security
from app.settings import get_settings

DATABASE_RETRY_AFTER_S = 5  # seconds a client is asked to wait while the database is unreachable

ROOT = Path(__file__).resolve().parent.parent


def _describe(error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))


def _refuse_newer_schema() -> None:
    """The server does not start on a database a newer licbench migrated (issue 32)."""
    from app.db.migrate import check_schema_not_newer

    check_schema_not_newer()


def create_app() -> FastAPI:
    app = FastAPI(
        title="licbench",
        version="1.0",
        description="Benchmark learned image codecs: real bitstreams, quality metrics, RD curves. "
        "Errors are JSON objects with a human-readable `detail`.",
        docs_url=None,  # served from local assets by install_offline_docs
        redoc_url=None,
    )
    install_offline_docs(app)
    app.router.on_startup.append(_refuse_newer_schema)

    install_error_answers(app)  # domain and framework errors -> HTTP statuses (a page for browsers), in one place

    @app.exception_handler(DBAPIError)
    async def _database_unavailable(request: Request, exc: DBAPIError):
        """The database is away (stopped, restarting, connections reset): 503 JSON with Retry-After (issue 13);
        other database errors stay 500s."""
        if isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated:
            return error_response(
                request, 503, "database unavailable, retry later", headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)}
            )
        raise exc

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        return error_response(
            request,
            422,
            "; ".join(_describe(e) for e in errors),
            extra={"errors": [{"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in errors]},
        )

    @app.exception_handler(OSError)
    async def _storage_full(_: Request, exc: OSError) -> JSONResponse:
        """The data dir is full (or over a quota / file size limit): 507 JSON; the request stored nothing."""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return JSONResponse(
                {
                    "detail": f"the server's storage is full ({os.strerror(exc.errno)}); nothing was "
                    f"stored, try again when space is freed"
                },
                status_code=507,
            )
        raise exc

    @app.middleware("http")
    async def _reject_oversized_bodies(request: Request, call_next):
        settings = get_settings()
        limit = max(settings.max_upload_bytes * settings.max_files_per_upload, settings.max_dataset_bytes)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit:
            return JSONResponse(
                {"detail": f"request body of {length} bytes is over the limit of {limit} bytes"}, status_code=413
            )
        return await call_next(request)

    app.include_router(system.router)
    app.include_router(image_sets.router)
    app.include_router(image_sets.images_router)
    app.include_router(jobs.router)
    app.include_router(models.router)
    app.include_router(reference_curves.router)
    app.include_router(pages.router)
    app.include_router(studies.router)
    app.include_router(pages_studies.router)
    app.include_router(analysis.router)
    app.include_router(iqa_datasets.router)
    app.include_router(pages_analysis.router)
    app.include_router(auth_routes.router)
    app.include_router(auth_routes.pages_router)
    app.include_router(leaderboard.router)
    app.include_router(leaderboard.pages_router)
    app.include_router(viewer.router)
    app.include_router(viewer.pages_router)
    app.include_router(vendor.router)
    app.include_router(pages_catalogue.router)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def _favicon() -> FileResponse:
        return FileResponse(
            ROOT / "static" / "favicon.ico",
            media_type="image/x-icon",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    install_security(app)  # last: its headers wrap every response
    return app


app = create_app()
# What is loaded by now (torch, scipy, the app: ~500,000 objects) lives as long as the process. Frozen, it is left
# out of the collector's full passes, which otherwise took 0.45 s each on this machine and showed up as 1.2 s
# spikes in the p99 of 1,000-row result pages (benchmarks/api.py).
gc.freeze()
