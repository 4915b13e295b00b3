"""Uploads against faults: the server killed (SIGKILL) while it stores an upload leaves no image set, partial or
whole, after the restart; a full data dir answers 507 JSON and leaves nothing written."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.support.faults import photos_body, wait_until
from tests.support.images import png_bytes, random_photo


def _image_files(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "images").glob("*")} if (data_dir / "images").exists() else set()


def _sets_named(client: httpx.Client, name: str) -> list[dict]:
    answer = client.get("/api/v1/image-sets", params={"limit": 10000})
    assert answer.status_code == 200, answer.text
    return [s for s in answer.json() if s["name"] == name]


def test_server_killed_while_storing_an_upload_leaves_no_image_set(embedded_stack):
    stack = embedded_stack
    body = photos_body(16, (384, 512))
    before = _image_files(stack.data_dir)
    outcome: dict[str, object] = {}

    def upload() -> None:
        try:
            with stack.client(timeout=120) as client:
                outcome["answer"] = client.post("/api/v1/image-sets", data={"name": "killed-upload"}, files=body)
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    sender = threading.Thread(target=upload)
    sender.start()
    # Kill as soon as the server has written the first image file of this upload (rows not yet committed).
    wait_until(lambda: _image_files(stack.data_dir) - before, 120, 0.01, "first image file written")
    stack.kill_server()
    sender.join(timeout=60)
    assert "error" in outcome, f"the upload finished before the kill: {outcome}"

    stack.start_server()
    with stack.client() as client:
        assert _sets_named(client, "killed-upload") == []  # nothing partially (or wholly) visible
        again = client.post("/api/v1/image-sets", data={"name": "killed-upload"}, files=body)
        assert again.status_code == 201, again.text  # the database is not left locked or broken
        assert len(again.json()["images"]) == 16
        assert len(_sets_named(client, "killed-upload")) == 1


@pytest.fixture
def small_data_dir(tmp_path: Path):
    """A 4 MB tmpfs as the data dir (needs root to mount; CI and `make test` run as root)."""
    mount = tmp_path / "small"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_full_data_dir_answers_507_json_and_writes_nothing(small_data_dir, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from app.db.migrate import upgrade_to_head
    from app.main import create_app
    from app.services.jobs import catalog
    from app.settings import get_settings
    from tests.support.accounts import authorize

    monkeypatch.setenv("DATA_DIR", str(small_data_dir))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'licbench.sqlite'}")  # the database lives elsewhere
    monkeypatch.setenv("BROKER_URL", f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
    get_settings.cache_clear()
    catalog.offered.reset()
    try:
        upgrade_to_head()
        noise = [np.random.default_rng(i).integers(0, 256, (700, 700, 3), dtype=np.uint8) for i in range(3)]
        files = [("files", (f"noise{i}.png", png_bytes(p), "image/png")) for i, p in enumerate(noise)]  # ~1.5 MB each
        with TestClient(create_app()) as client:
            authorize(client, "tester")
            answer = client.post("/api/v1/image-sets", data={"name": "too-big"}, files=files)
            assert answer.status_code == 507, answer.text
            assert "storage is full" in answer.json()["detail"]
            assert client.get("/api/v1/image-sets").json() == []
            leftovers = [p for p in small_data_dir.rglob("*") if p.is_file() and p.name != "secret_key"]
            assert leftovers == [], leftovers  # no image file, no temp file
            small = client.post(
                "/api/v1/image-sets",
                data={"name": "fits"},
                files=[("files", ("a.png", png_bytes(random_photo(64, 64)), "image/png"))],
            )
            assert small.status_code == 201, small.text  # space was given back
    finally:
        get_settings.cache_clear()
        catalog.offered.reset()
