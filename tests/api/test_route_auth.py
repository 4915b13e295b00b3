"""Issue 13 (security): every route that changes something refuses a request without credentials (401/403),
found by walking the application's routes, so a new mutating route without auth fails here."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}

# Routes anonymous visitors must reach, each with the reason; anything else that mutates needs a user.
OPEN_BY_DESIGN = {
    ("POST", "/login"): "logging in (CSRF-checked by its own signed form token: 403 without it)",
    ("POST", "/logout"): "ending a session (CSRF-checked when a session exists; without one it only clears cookies)",
    ("POST", "/api/v1/studies/{study_id}/sessions"): "study participants need no account (they come by the study link)",
    ("POST", "/api/v1/studies/{study_id}/sessions/{session_id}/responses"): "answers of such a participant session",
}


def _api_routes(routes):
    """Every APIRoute, also those of included routers (FastAPI keeps an included router as one entry holding
    ``original_router``; main.py includes routers without an extra prefix, so their paths are complete)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)


def _mutating_routes(app) -> list[tuple[str, str]]:
    return sorted({(method, route.path) for route in _api_routes(app.routes) for method in route.methods & MUTATING})


def test_every_mutating_route_needs_credentials(api):
    from fastapi.testclient import TestClient

    anonymous = TestClient(api.app)  # no bearer token, no cookie
    routes = _mutating_routes(api.app)
    assert len(routes) >= 20, routes  # the walk found the API
    answered = {}
    for method, path in routes:
        if (method, path) in OPEN_BY_DESIGN:
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        response = anonymous.request(method, url)
        answered[(method, path)] = response.status_code
        assert response.status_code in (401, 403), (method, path, response.status_code, response.text[:200])
        assert "detail" in response.json(), (method, path)
    assert set(OPEN_BY_DESIGN) <= set(routes), "an open-by-design route no longer exists: update the list"


def test_open_by_design_routes_still_change_nothing_without_their_token(api):
    from fastapi.testclient import TestClient

    anonymous = TestClient(api.app)
    assert anonymous.post("/login", data={"name": "tester", "password": "x"}).status_code == 403  # no form token
    assert anonymous.post("/api/v1/studies/1/sessions", json={}).status_code in (404, 422)  # no such study
