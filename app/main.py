"""Builds the FastAPI application: REST API under /api/v1, pages, static files."""
from __future__ import annotations

import errno
import gc
import os
from pathlib import Path

import plotly
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from app.api.docs import install_offline_docs
from app.api.security import install_security
from app.api.routes import image_sets, jobs, models, pages, reference_curves, system
from app.api.routes import pages_studies, studies
from app.api.routes import analysis, iqa_datasets, pages_analysis
from app.api.routes import auth as auth_routes
from app.api.routes import leaderboard, viewer
from app.services.errors import ServiceError
from app.settings import get_settings
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

DATABASE_RETRY_AFTER_S = 5  # seconds a client is asked to wait while the database is unreachable

ROOT = Path(__file__).resolve().parent.parent
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


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

    @app.exception_handler(ServiceError)
    async def _service_error(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))  # e.g. Retry-After of a 429

    @app.exception_handler(DBAPIError)
    async def _database_unavailable(request: Request, exc: DBAPIError):
        """The database is away (stopped, restarting, connections reset): 503 JSON with Retry-After (issue 13);
        other database errors stay 500s."""
        if isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated:
            return JSONResponse({"detail": "database unavailable, retry later"}, status_code=503,
                                headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)})
        raise exc

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        return JSONResponse({"detail": "; ".join(_describe(e) for e in errors),
                             "errors": [{"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in errors]},
                            status_code=422)

    @app.exception_handler(OSError)
    async def _storage_full(_: Request, exc: OSError) -> JSONResponse:
        """The data dir is full (or over a quota / file size limit): 507 JSON; the request stored nothing."""
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return JSONResponse({"detail": f"the server's storage is full ({os.strerror(exc.errno)}); nothing was "
                                           f"stored, try again when space is freed"}, status_code=507)
        raise exc

    @app.middleware("http")
    async def _reject_oversized_bodies(request: Request, call_next):
        settings = get_settings()
        limit = max(settings.max_upload_bytes * settings.max_files_per_upload, settings.max_dataset_bytes)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit:
            return JSONResponse({"detail": f"request body of {length} bytes is over the limit of {limit} bytes"},
                                status_code=413)
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
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    async def _plotly_js():
        from fastapi.responses import FileResponse

        return FileResponse(PLOTLY_JS, media_type="application/javascript")

    install_security(app)  # last: its headers wrap every response
    return app


app = create_app()
# What is loaded by now (torch, scipy, the app: ~500,000 objects) lives as long as the process. Frozen, it is left
# out of the collector's full passes, which otherwise took 0.45 s each on this machine and showed up as 1.2 s
# spikes in the p99 of 1,000-row result pages (benchmarks/api.py).
gc.freeze()
