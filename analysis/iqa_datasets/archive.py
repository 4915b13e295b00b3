"""Unpacking a data set zip safely and finding the layout inside it.

Checks before anything is written: zip-slip names (absolute paths, ``..`` components, drive
letters), symbolic links, the number of files, the total uncompressed size and the compression
ratio (a zip bomb); while writing, the bytes actually inflated are counted against the same limits
(a header can lie). On any error the destination folder is removed, so nothing is left behind.
"""

from __future__ import annotations

import fnmatch
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from analysis.iqa_datasets.base import DatasetError, Layout

DEFAULT_MAX_TOTAL_BYTES = 20 * 1024**3
DEFAULT_MAX_FILES = 200_000
DEFAULT_MAX_RATIO = 200.0
_IGNORED_TOP_LEVEL = ("__MACOSX",)
_CHUNK = 1 << 20


def _safe_name(name: str) -> PurePosixPath:
    normalised = name.replace("\\", "/")
    path = PurePosixPath(normalised)
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":") or ".." in path.parts:
        raise DatasetError(f"unsafe path in archive: {name!r} (absolute or leaving the archive)")
    return path


def safe_extract(
    zip_path: Path,
    dest: Path,
    *,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
    max_ratio: float = DEFAULT_MAX_RATIO,
) -> Path:
    """Extract ``zip_path`` into the new folder ``dest`` and return it; ``DatasetError`` on a bad archive.

    ``max_ratio`` bounds the whole archive's uncompressed/compressed size ratio (and each member's
    of more than 1 MiB). ``dest`` must not exist yet; it is removed again on any error.
    """
    if dest.exists():
        raise DatasetError(f"destination {dest} already exists")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DatasetError(f"not a readable zip archive: {exc}") from None
    with archive:
        members = archive.infolist()
        if len(members) > max_files:
            raise DatasetError(f"archive holds {len(members)} entries (limit {max_files})")
        total = sum(m.file_size for m in members)
        compressed = sum(m.compress_size for m in members)
        if total > max_total_bytes:
            raise DatasetError(f"archive unpacks to {total} bytes (limit {max_total_bytes})")
        if compressed and total / compressed > max_ratio and total > _CHUNK:
            raise DatasetError(
                f"archive compression ratio {total / compressed:.0f} exceeds {max_ratio:.0f} (zip bomb?)"
            )
        for member in members:
            _safe_name(member.filename)
            if stat.S_ISLNK(member.external_attr >> 16):
                raise DatasetError(f"archive entry {member.filename!r} is a symbolic link")
            if (
                member.compress_size
                and member.file_size > _CHUNK
                and member.file_size / member.compress_size > max_ratio
            ):
                raise DatasetError(
                    f"archive entry {member.filename!r} has compression ratio "
                    f"{member.file_size / member.compress_size:.0f} (limit {max_ratio:.0f}; zip bomb?)"
                )
        dest.mkdir(parents=True)
        try:
            written = 0
            for member in members:
                target = dest.joinpath(*_safe_name(member.filename).parts)
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                member_written = 0
                with archive.open(member) as source, open(target, "wb") as sink:
                    while chunk := source.read(_CHUNK):
                        member_written += len(chunk)
                        written += len(chunk)
                        if member_written > member.file_size or written > max_total_bytes:
                            raise DatasetError(f"archive entry {member.filename!r} inflates beyond its declared size")
                        sink.write(chunk)
        except DatasetError:
            shutil.rmtree(dest, ignore_errors=True)
            raise
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
            shutil.rmtree(dest, ignore_errors=True)
            raise DatasetError(f"archive cannot be unpacked: {exc}") from None
    return dest


def _has_markers(folder: Path, layout: Layout) -> bool:
    names = [p.name.lower() for p in folder.iterdir()]
    return all(fnmatch.filter(names, marker.lower()) for marker in layout.markers)


def find_layout_root(extracted: Path, layout: Layout) -> Path:
    """The folder holding ``layout``'s marker files: ``extracted`` itself or its one top-level folder.

    Hidden entries and ``__MACOSX`` are ignored when looking for the single top-level folder.
    """
    if not extracted.is_dir():
        raise DatasetError(f"{extracted} is not a folder")
    if _has_markers(extracted, layout):
        return extracted
    entries = [p for p in extracted.iterdir() if not p.name.startswith(".") and p.name not in _IGNORED_TOP_LEVEL]
    folders = [p for p in entries if p.is_dir()]
    if len(folders) == 1 and _has_markers(folders[0], layout):
        return folders[0]
    raise DatasetError(
        f"no {layout.name} layout found: expected {', '.join(layout.markers)} at the archive's "
        f"root or inside one top-level folder"
    )
