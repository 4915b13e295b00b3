"""Hostile JSON bodies and IDs: malformed JSON, unknown names, impossible rate points, oversized requests and
IDs no row can have. Each answers a 4xx JSON ``detail`` and stores nothing; none answers a 5xx."""

from __future__ import annotations

import re

import pytest

from app.api.security import MAX_ID
from tests.support.images import png_bytes, random_photo


@pytest.fixture
def image_set_id(client) -> int:
    response = client.post(
        "/api/v1/image-sets",
        data={"name": "target"},
        files=[("files", ("a.png", png_bytes(random_photo(16, 16)), "image/png"))],
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _post_job(client, body: bytes | str):
    return client.post("/api/v1/jobs", content=body, headers={"Content-Type": "application/json"})


JOB_BODIES = {
    "malformed JSON": ('{"image_set_id": SET, "codecs": [', "JSON decode error"),
    "JSON array instead of an object": ("[1, 2, 3]", "valid dictionary"),
    "empty body": ("", "Field required"),
    "unknown codec": ('{"image_set_id": SET, "codecs": [{"name": "no-such-codec"}]}', "unknown codec"),
    "unknown metric": ('{"image_set_id": SET, "codecs": [{"name": "jpeg"}], "metrics": ["no-such"]}', "unknown metric"),
    "negative rate point": ('{"image_set_id": SET, "codecs": [{"name": "jpeg", "rate_points": [-5]}]}', "out of range"),
    "huge rate point": ('{"image_set_id": SET, "codecs": [{"name": "jpeg", "rate_points": [1e308]}]}', "out of range"),
    "rate point overflowing a double": (
        '{"image_set_id": SET, "codecs": [{"name": "jpeg", "rate_points": [1e999]}]}',
        "not finite",
    ),
    "NaN rate point": ('{"image_set_id": SET, "codecs": [{"name": "jpeg", "rate_points": [NaN]}]}', "not finite"),
    "Infinity rate point": (
        '{"image_set_id": SET, "codecs": [{"name": "jpeg2000", "rate_points": [Infinity]}]}',
        "not finite",
    ),
    "text rate point": ('{"image_set_id": SET, "codecs": [{"name": "jpeg", "rate_points": ["high"]}]}', "valid number"),
    "non-integer quality": ('{"image_set_id": SET, "codecs": [{"name": "jpeg", "rate_points": [50.5]}]}', "integer"),
    "empty codec list": ('{"image_set_id": SET, "codecs": []}', "at least one codec"),
    "empty rate point list": ('{"image_set_id": SET, "codecs": [{"name": "jpeg", "rate_points": []}]}', "non-empty"),
    "rate points not a list": ('{"image_set_id": SET, "codecs": [{"name": "jpeg", "rate_points": 50}]}', "valid list"),
    "nonexistent image set": ('{"image_set_id": 987654, "codecs": [{"name": "jpeg"}]}', "does not exist"),
    "image set ID above 2^63": (f'{{"image_set_id": {2**64}, "codecs": [{{"name": "jpeg"}}]}}', "out of range"),
    "image set ID above the 32-bit column": (
        f'{{"image_set_id": {2**40}, "codecs": [{{"name": "jpeg"}}]}}',
        "out of range",
    ),
    "image set ID as text": ('{"image_set_id": "first", "codecs": [{"name": "jpeg"}]}', "valid integer"),
    "deeply nested JSON": ('{"image_set_id": SET, "codecs": ' + "[" * 5000 + "]" * 5000 + "}", ""),
}


@pytest.mark.parametrize("case", list(JOB_BODIES))
def test_hostile_job_request_answers_4xx_and_stores_nothing(client, image_set_id, nothing_stored, case):
    body, message = JOB_BODIES[case]
    response = _post_job(client, body.replace("SET", str(image_set_id)))
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert message in response.json()["detail"]


def test_ten_thousand_rate_points_are_refused_by_the_per_request_limit(client, image_set_id, nothing_stored):
    points = ", ".join(f"{20 + i / 1000:.3f}" for i in range(10_000))
    body = f'{{"image_set_id": {image_set_id}, "codecs": [{{"name": "jpeg2000", "rate_points": [{points}]}}]}}'
    response = _post_job(client, body)
    assert response.status_code == 422
    assert (
        "10000 rate points" in response.json()["detail"] and "MAX_RATE_POINTS_PER_REQUEST" in response.json()["detail"]
    )


PAGES_WITH_IDS = [
    "/image-sets/{image_set_id}",
    "/jobs/{job_id}",
    "/jobs/{job_id}/results",
    "/studies/{study_id}",
    "/analysis/studies/{study_id}",
    "/analysis/iqa-datasets/{dataset_id}",
]


def _id_routes(client) -> list[tuple[str, str]]:
    """(method, path template) of every documented operation with an ID path parameter, plus the pages."""
    found = [("GET", page) for page in PAGES_WITH_IDS]
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if re.search(r"\{\w*id\}", path):
            found += [
                (method.upper(), path) for method in operations if method in ("get", "post", "put", "patch", "delete")
            ]
    return found


@pytest.mark.parametrize("value", [2**63, 2**64, 10**40, 2**40])
def test_ids_above_the_column_range_in_any_path_answer_404(client, nothing_stored, value):
    routes = _id_routes(client)
    assert len(routes) >= 20
    for method, template in routes:
        path = re.sub(r"\{\w*id\}", str(value), template).replace("{which}", "reference")
        response = client.request(method, path)
        assert response.status_code == 404, (method, path, response.status_code, response.text[:200])
        assert str(MAX_ID) in response.json()["detail"]


def test_ids_at_the_edge_of_the_range_are_plain_not_found(client, nothing_stored):
    for path in (
        f"/api/v1/jobs/{MAX_ID}",
        f"/api/v1/image-sets/{MAX_ID}",
        "/api/v1/jobs/0",
        "/api/v1/jobs/-1",
        f"/api/v1/jobs/-{2**64}",
    ):
        response = client.get(path)
        assert response.status_code in (404, 422), (path, response.text)
        assert "detail" in response.json()


def test_oversized_id_in_a_query_parameter_is_422(client):
    response = client.get(f"/api/v1/jobs?image_set_id={2**64}")
    assert response.status_code == 422 and "image_set_id" in response.json()["detail"]


def test_oversized_id_inside_a_nested_body_is_422(client, nothing_stored):
    response = client.post("/api/v1/studies", json={"job_id": 2**70, "method": "pairwise"})
    assert response.status_code == 422 and "job_id" in response.json()["detail"]
