"""The embedded SQLite default under concurrent uploads (issue 13's probe: 10 uploads froze the API for 241 s,
8 of them 500 "database is locked", and a GET right after a 201 could 404): on a real uvicorn process, 10
concurrent uploads all answer 201, each set is readable by the very next GET, and ``/health`` keeps answering."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.images import png_bytes, random_photo
from tests.support.stack import running_stack

pytestmark = pytest.mark.integration

UPLOADS = 10


def test_ten_concurrent_uploads_on_embedded_sqlite_all_succeed_and_health_answers(tmp_path):
    data_dir = tmp_path / "data"
    database_url = f"sqlite:///{data_dir / 'licbench.sqlite'}"
    broker_url = f"sqla+sqlite:///{data_dir / 'broker.sqlite'}"
    files = [
        [
            ("files", (f"u{u}-{i}.png", png_bytes(random_photo(160, 200, seed=10 * u + i)), "image/png"))
            for i in range(3)
        ]
        for u in range(UPLOADS)
    ]
    with running_stack(database_url, broker_url, data_dir, startup_timeout=240) as stack:
        headers = {"Authorization": f"Bearer {stack.token}"}
        health: list[tuple[float, int]] = []
        uploads_done = threading.Event()

        def poll_health() -> None:
            with httpx.Client(base_url=stack.base_url, timeout=60) as client:
                while not uploads_done.is_set():
                    started = time.monotonic()
                    status = client.get("/api/v1/health").status_code
                    health.append((time.monotonic() - started, status))
                    time.sleep(0.05)

        def upload_and_read(index: int) -> tuple[int, int, float]:
            with httpx.Client(base_url=stack.base_url, headers=headers, timeout=120) as client:
                started = time.monotonic()
                created = client.post("/api/v1/image-sets", data={"name": f"concurrent {index}"}, files=files[index])
                took = time.monotonic() - started
                if created.status_code != 201:
                    return created.status_code, -1, took
                return 201, client.get(f"/api/v1/image-sets/{created.json()['id']}").status_code, took

        poller = threading.Thread(target=poll_health)
        poller.start()
        try:
            with ThreadPoolExecutor(UPLOADS) as pool:
                outcomes = list(pool.map(upload_and_read, range(UPLOADS)))
        finally:
            uploads_done.set()
            poller.join()

        assert [created for created, _, _ in outcomes] == [201] * UPLOADS, outcomes
        assert [read for _, read, _ in outcomes] == [200] * UPLOADS, outcomes  # committed before the 201
        assert health and all(status in (200, 503) for _, status in health), health  # 503 = no worker heartbeat yet
        worst_health = max(seconds for seconds, _ in health)
        assert worst_health < 10, f"/health took {worst_health:.1f} s while uploads ran"
        with stack.client() as client:
            names = {s["name"] for s in client.get("/api/v1/image-sets", params={"limit": 100}).json()}
        assert {f"concurrent {i}" for i in range(UPLOADS)} <= names
