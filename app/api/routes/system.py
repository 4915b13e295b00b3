"""Health and catalogue endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import text

from app.api.deps import SessionDep
from app.api.schemas import CodecOut, HealthOut, MetricOut, WorkersOut
from app.services.jobs import catalog
from app.services.operations import health as health_service
from engine import queue

router = APIRouter(prefix="/api/v1", tags=["system"])


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut, "description": "Degraded"}})
def health(session: SessionDep, response: Response) -> HealthOut:
    """200 with status ok when the database and the broker both answer; 503 otherwise. ``workers`` says
    whether a worker wrote its heartbeat recently and ``tasks_waiting`` how much work is queued; a missing
    worker is reported there, not a reason for a 503."""
    try:
        session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # report, don't crash
        database = f"error: {type(exc).__name__}: {exc}"
        # a connection lost mid-statement leaves the session's transaction invalid: without this rollback the
        # commit after the route raises (PendingRollbackError) and /health answers 500 instead of 503
        session.rollback()
    broker = queue.broker_status()
    healthy = database == "ok" and broker == "ok"
    response.status_code = 200 if healthy else 503
    workers = waiting = None
    if database == "ok":
        try:
            workers = WorkersOut(**health_service.workers(session))
            waiting = health_service.tasks_waiting(session)
        except Exception:  # e.g. a database not yet migrated: report what is known
            session.rollback()
    return HealthOut(
        status="ok" if healthy else "degraded", database=database, broker=broker, workers=workers, tasks_waiting=waiting
    )


@router.get("/codecs", response_model=list[CodecOut])
def list_codecs(session: SessionDep) -> list[CodecOut]:
    """Every codec with its rate points and whether it can run here (and why not)."""
    return [CodecOut.of(codec) for codec in catalog.codecs(session).values()]


@router.get("/metrics", response_model=list[MetricOut])
def list_metrics() -> list[MetricOut]:
    """Every metric with its direction and whether it can run here (and why not)."""
    return [MetricOut.of(metric) for metric in catalog.registry_metrics().values()]
