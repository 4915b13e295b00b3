"""The weights digest cache: a file's hash is computed once per version of it, and the cache stays bounded."""

from __future__ import annotations

import hashlib
import os

from models.weights_store import DigestCache


def test_digests_are_cached_per_file_version_and_bounded(tmp_path):
    cache = DigestCache(max_entries=3)
    files = [tmp_path / f"w{i}.pth" for i in range(5)]
    for i, path in enumerate(files):
        path.write_bytes(bytes([i]) * 10)
        assert cache.sha256_of(path) == hashlib.sha256(path.read_bytes()).hexdigest()
        assert len(cache) == min(i + 1, 3)
    files[-1].write_bytes(b"changed")
    os.utime(files[-1], ns=(1, 1))  # a new version: another size and mtime
    assert cache.sha256_of(files[-1]) == hashlib.sha256(b"changed").hexdigest() and len(cache) == 3
    cache.reset()
    assert len(cache) == 0
