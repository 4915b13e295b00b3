"""The local pretrained-weights folder: which files are expected, which are there and sound, and adding more.

Pretrained files keep the names their publishers released them under, and those names carry a hash
prefix: ``bmshj2018-hyperprior-4-de1b779c.pth.tar`` must have a SHA-256 digest starting with
``de1b779c``. This is the check ``torch.hub`` makes after a download (``check_hash``); here it is made
on local files, since nothing is ever downloaded. A file whose digest does not match is ``corrupt``.

Layout: ``<weights_dir>/<folder>/<filename>``, e.g. ``weights/compressai/mbt2018-1-3f36cd77.pth.tar``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PRESENT, MISSING, CORRUPT = "present", "missing", "corrupt"

# The hash prefix is the last "-<hex>" before the file's extension(s), as in torch.hub's file names.
_HASH_PREFIX = re.compile(r"-([0-9a-f]{6,64})\.[A-Za-z0-9.]+$")


class WeightsError(Exception):
    """A weights file is missing, corrupt or not one licbench expects (one-line message)."""


def hash_prefix_of(filename: str) -> str | None:
    """The hex digest prefix a released file name carries (``...-de1b779c.pth.tar`` -> ``de1b779c``)."""
    match = _HASH_PREFIX.search(filename)
    return match.group(1) if match else None


@dataclass(frozen=True)
class WeightFile:
    """One expected pretrained file: who uses it, where it lives, and the hash its name promises."""

    codec: str
    quality: int
    filename: str
    folder: str = "compressai"
    architecture: str = ""
    metric: str = ""

    @property
    def hash_prefix(self) -> str | None:
        return hash_prefix_of(self.filename)

    @property
    def relative_path(self) -> str:
        return f"{self.folder}/{self.filename}"

    def path(self, weights_dir: Path) -> Path:
        return Path(weights_dir) / self.folder / self.filename


@dataclass(frozen=True)
class WeightStatus:
    """The state of one expected file in a weights folder: ``present``, ``missing`` or ``corrupt``."""

    file: WeightFile
    path: Path
    status: str
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == PRESENT


class DigestCache:
    """SHA-256 digests by (path, size, mtime), at most ``max_entries`` (the oldest goes first); thread-safe. One per
    process (:data:`digests`); a test calls :meth:`reset` or makes its own."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._digests: dict[tuple[str, int, int], str] = {}

    def sha256_of(self, path: Path) -> str:
        """Hex SHA-256 of a file; hashing runs outside the lock."""
        st = os.stat(path)
        key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns)
        with self._lock:
            if key in self._digests:
                return self._digests[key]
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        value = digest.hexdigest()
        with self._lock:
            while len(self._digests) >= self._max_entries:  # a file's older versions and files long gone go first
                self._digests.pop(next(iter(self._digests)))
            self._digests[key] = value
        return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._digests)

    def reset(self) -> None:
        """Forget every digest."""
        with self._lock:
            self._digests.clear()


digests = DigestCache()


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, cached per (path, size, mtime) so repeated checks cost a ``stat``.

    The one hashing helper of both pure libraries (``metrics.weights`` checks backbones with it);
    thread-safe (:data:`digests`)."""
    return digests.sha256_of(path)


def verify_hash(path: Path, prefix: str | None) -> None:
    """Raise ``WeightsError`` unless the SHA-256 of ``path`` starts with ``prefix`` (None: no check)."""
    if prefix is None:
        return
    digest = sha256_of(path)
    if not digest.startswith(prefix):
        raise WeightsError(
            f"{path} is corrupt: SHA-256 {digest[:16]}... does not start with {prefix} (the hash in its name)"
        )


def check_file(file: WeightFile, weights_dir: Path) -> WeightStatus:
    """Status of one expected file (hashes the file, once per version of it)."""
    path = file.path(weights_dir)
    if not path.is_file():
        return WeightStatus(file, path, MISSING, f"missing weights file {path}")
    try:
        verify_hash(path, file.hash_prefix)
    except WeightsError as exc:
        return WeightStatus(file, path, CORRUPT, str(exc))
    except OSError as exc:
        return WeightStatus(file, path, CORRUPT, f"cannot read {path}: {exc.strerror or exc}")
    return WeightStatus(file, path, PRESENT)


def status(weights_dir: Path, files: Sequence[WeightFile]) -> list[WeightStatus]:
    """Status of each of ``files`` under ``weights_dir`` (the caller names the files it expects,
    e.g. ``models.zoo.zoo_weight_files()``)."""
    return [check_file(f, weights_dir) for f in files]


def add(weights_dir: Path, sources: Iterable[Path], files: Sequence[WeightFile]) -> list[WeightStatus]:
    """Copy released weights files into ``weights_dir`` after checking each name and hash.

    Every source is checked before anything is copied, so a bad file in the list copies nothing.
    A file is identified by its name, which must be the released name of one of ``files``.
    """
    known = {f.filename: f for f in files}
    plan: list[tuple[Path, WeightFile]] = []
    for source in sources:
        source = Path(source)
        if not source.is_file():
            raise WeightsError(f"{source}: no such file")
        file = known.get(source.name)
        if file is None:
            raise WeightsError(
                f"{source.name} is not an expected weights file name (see `licbench weights status`; "
                "files keep their released names, hash prefix included)"
            )
        verify_hash(source, file.hash_prefix)
        plan.append((source, file))
    added = []
    for source, file in plan:
        target = file.path(weights_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not (target.is_file() and target.resolve() == source.resolve()):
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-", suffix=".part")
            os.close(fd)
            try:
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        added.append(check_file(file, weights_dir))
    return added
