"""Blob storage for images and reconstructions behind a small interface (local disk by default)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class BlobStorage(Protocol):
    """Where image bytes live; keys are relative POSIX paths such as ``images/<sha256>.png``."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def path(self, key: str) -> Path: ...  # the key's local file: checkpoint readers and removal need one


class LocalStorage:
    """Files under a root folder; writes are atomic (temp file + rename), so readers never see halves."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The local file of ``key`` (for readers that need a path, e.g. checkpoints)."""
        return self._path(key)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"storage key escapes the root: {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_tree(root: Path) -> dict[str, str]:
    """``{relative POSIX path: sha256}`` of every regular file under ``root`` (symbolic links are skipped)."""
    return {
        p.relative_to(root).as_posix(): sha256_file(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def image_key(content_hash: str) -> str:
    return f"images/{content_hash}.png"


def reconstruction_key(job_id: int, image_id: int, codec: str, rate_point: float) -> str:
    rate = f"{rate_point:g}".replace("/", "_")
    return f"reconstructions/{job_id}/{image_id}-{codec}-{rate}.png"


def default_storage() -> LocalStorage:
    from app.settings import get_settings

    return LocalStorage(get_settings().data_dir)
