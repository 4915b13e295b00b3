"""Local blob storage writes atomically and stays inside its root."""

from __future__ import annotations

import pytest

from app.services.storage import LocalStorage, reconstruction_key


def test_put_then_get_round_trips(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.put("images/abc.png", b"data")
    assert storage.get("images/abc.png") == b"data"
    assert storage.exists("images/abc.png")
    assert not list((tmp_path / "images").glob(".tmp-*"))


def test_keys_cannot_escape_the_root(tmp_path):
    with pytest.raises(ValueError, match="escapes"):
        LocalStorage(tmp_path / "root").put("../outside.png", b"x")


def test_reconstruction_keys_are_unique_per_task():
    keys = {reconstruction_key(1, 2, "jpeg", q) for q in (10, 10.5, 11)}
    assert len(keys) == 3
