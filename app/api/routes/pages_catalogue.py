"""Catalogue pages: the codecs and metrics this installation offers, and the human studies a visitor may see.

They show what the REST API already returns (``/api/v1/codecs``, ``/api/v1/metrics``, ``/api/v1/studies``), so a
newcomer can find them from the header instead of reading JSON.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.deps import SessionDep
from app.api.routes.pages import templates
from app.api.schemas import CodecOut, MetricOut
from app.services.jobs import catalog

router = APIRouter(include_in_schema=False)


@router.get("/codecs", response_class=HTMLResponse)
def codecs_page(request: Request, session: SessionDep):
    """Every codec: kind, description, default rate points and range, availability with its reason."""
    codecs = sorted(
        (CodecOut.of(c) for c in catalog.codecs(session).values()),
        key=lambda c: ({"classical": 0, "learned": 1}.get(c.kind, 2), c.name),
    )
    return templates.TemplateResponse(request, "codecs.html", {"codecs": codecs})


@router.get("/metrics", response_class=HTMLResponse)
def metrics_page(request: Request):
    """Every metric: direction, unit, range, reference, smallest size, availability with its reason."""
    metrics = sorted((MetricOut.of(m) for m in catalog.registry_metrics().values()), key=lambda m: m.name)
    return templates.TemplateResponse(request, "metrics.html", {"metrics": metrics})


@router.get("/studies", response_class=HTMLResponse)
def studies_page(request: Request):
    """The studies the visitor may see (filled from ``/api/v1/studies``, which applies the visibility rules)."""
    return templates.TemplateResponse(request, "studies.html", {})
