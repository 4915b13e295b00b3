"""The OpenAPI schema documents every JSON answer with a typed model, and list endpoints their paging."""

from __future__ import annotations

LISTS = ["/api/v1/image-sets", "/api/v1/jobs", "/api/v1/jobs/{job_id}/results", "/api/v1/reference-curves"]


def test_every_operation_documents_its_success_response(api):
    """A route without ``response_model`` shows up here as an untyped JSON answer."""
    schema = api.get("/openapi.json").json()
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if "204" in responses:
                continue
            ok = next((r for code, r in responses.items() if code.startswith("2")), None)
            content = (ok or {}).get("content", {})
            binary = any(kind.startswith("image/") for kind in content)
            if not binary and not content.get("application/json", {}).get("schema"):
                missing.append(f"{method.upper()} {path}")
    assert missing == [], f"untyped answers: {missing}"


def test_list_endpoints_document_limit_and_offset(api):
    schema = api.get("/openapi.json").json()
    for path in LISTS:
        names = {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}
        assert names["limit"]["maximum"] == 10_000 and names["limit"]["default"] == 1000, path
        assert names["offset"]["minimum"] == 0, path


def test_job_answers_name_the_job_statuses(api):
    components = api.get("/openapi.json").json()["components"]["schemas"]
    assert components["JobStatus"]["enum"] == ["queued", "running", "succeeded", "failed", "cancelled"]
