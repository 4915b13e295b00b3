"""List endpoints answer a bare JSON array of one page (limit/offset) with the total in X-Total-Count."""

from __future__ import annotations

import pytest

from tests.support.images import png_bytes, random_photo

TINY = png_bytes(random_photo(8, 8))


def _upload(api, name: str) -> int:
    response = api.post("/api/v1/image-sets", data={"name": name}, files=[("files", ("a.png", TINY, "image/png"))])
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_image_sets_are_paged_newest_first_with_the_total_in_a_header(api):
    ids = [_upload(api, f"set {i}") for i in range(3)]
    everything = api.get("/api/v1/image-sets")
    assert everything.headers["X-Total-Count"] == "3"
    assert [s["id"] for s in everything.json()] == ids[::-1]
    page = api.get("/api/v1/image-sets", params={"limit": 1, "offset": 1})
    assert page.headers["X-Total-Count"] == "3"
    assert [s["id"] for s in page.json()] == [ids[1]]
    assert api.get("/api/v1/image-sets", params={"offset": 5}).json() == []


def test_jobs_list_is_paged(api):
    response = api.get("/api/v1/jobs", params={"limit": 10})
    assert response.status_code == 200
    assert response.json() == [] and response.headers["X-Total-Count"] == "0"


def test_reference_curves_are_paged_over_shipped_and_imported_curves(api):
    total = int(api.get("/api/v1/reference-curves").headers["X-Total-Count"])
    assert total >= 2
    second = api.get("/api/v1/reference-curves", params={"limit": 1, "offset": 1}).json()
    assert second == api.get("/api/v1/reference-curves").json()[1:2]


@pytest.mark.parametrize(
    "path", ["/api/v1/image-sets", "/api/v1/jobs", "/api/v1/reference-curves", "/api/v1/jobs/1/results"]
)
@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 10_001}, {"offset": -1}, {"limit": "many"}])
def test_out_of_range_paging_is_a_422_with_a_message(api, path, params):
    response = api.get(path, params=params)
    assert response.status_code == 422
    assert next(iter(params)) in response.json()["detail"]
