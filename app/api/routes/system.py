"""Health and catalogue endpoints."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import SessionDep
from app.services import catalog, queue

router = APIRouter(prefix="/api/v1", tags=["system"])


@router.get("/health")
def health(session: SessionDep) -> JSONResponse:
    """200 with status ok when the database and the broker both answer; 503 otherwise."""
    try:
        session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # report, don't crash
        database = f"error: {type(exc).__name__}: {exc}"
    broker = queue.broker_status()
    healthy = database == "ok" and broker == "ok"
    return JSONResponse({"status": "ok" if healthy else "degraded", "database": database, "broker": broker},
                        status_code=200 if healthy else 503)


@router.get("/codecs")
def list_codecs(session: SessionDep) -> list[dict]:
    """Every codec with its rate points and whether it can run here (and why not)."""
    return catalog.list_codecs(session)


@router.get("/metrics")
def list_metrics() -> list[dict]:
    """Every metric with its direction and whether it can run here (and why not)."""
    return catalog.list_metrics()
