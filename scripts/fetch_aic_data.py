"""Copy the SDR25 triplet answers and AIC-4's reconstructed JND from fetched mirrors; check hashes.

The files, their commits, sizes and sha256 are in ``analysis/reference_data/aic/sdr25_manifest.json``.
Fetch the repositories first (the ``fetch`` tool mirrors ``github:jpeg-aic/dataset-JPEG-AI-SDR25`` and
``github:jpeg-aic/JPEG-AIC-4-datasets`` as git directories under ``/work/.mirror``); nothing is
downloaded here. The zip's two response CSVs are extracted next to it (their hashes are checked too),
ready for ``benchmarks/aic3_vs_aic4.py`` or ``licbench study import --format aic3``.

Usage::

    python scripts/fetch_aic_data.py [--mirrors /work/.mirror] [--dest data/public/aic]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "analysis/reference_data/aic/sdr25_manifest.json"
DEFAULT_MIRRORS = Path("/work/.mirror")
DEFAULT_DEST = ROOT / "data/public/aic"


def mirror_dir(mirrors: Path, repository: str) -> Path:
    """The git directory the fetch tool writes for ``owner/name``."""
    return mirrors / repository.replace("/", "+") / "repo"


def _check(name: str, data: bytes, entry: dict) -> str | None:
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != entry["size"] or digest != entry["sha256"]:
        return (
            f"{name}: {len(data)} bytes, sha256 {digest}; the manifest says "
            f"{entry['size']} bytes, sha256 {entry['sha256']}"
        )
    return None


def copy_files(mirrors: Path, dest: Path) -> tuple[list[Path], list[str]]:
    """Every manifest file (and zip member) into ``dest``; returns (written, problems)."""
    manifest = json.loads(MANIFEST.read_text())
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    problems: list[str] = []
    for entry in manifest["files"]:
        label = f"{entry['repository']}@{entry['commit'][:12]}:{entry['path']}"
        git_dir = mirror_dir(mirrors, entry["repository"])
        if not git_dir.is_dir():
            problems.append(f"{label}: missing (no mirror at {git_dir}; fetch github:{entry['repository']} first)")
            continue
        done = subprocess.run(
            ["git", "--git-dir", str(git_dir), "show", f"{entry['commit']}:{entry['path']}"], capture_output=True
        )
        if done.returncode != 0:
            problems.append(f"{label}: missing ({done.stderr.decode().strip()})")
            continue
        data = done.stdout
        problem = _check(label, data, entry)
        if problem:
            problems.append(problem)
            continue
        target = dest / Path(entry["path"]).name
        target.write_bytes(data)
        written.append(target)
        if entry.get("members"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                for member in entry["members"]:
                    if member["path"] not in names:
                        problems.append(f"{label}: member {member['path']} missing")
                        continue
                    blob = archive.read(member["path"])
                    problem = _check(f"{label}!{member['path']}", blob, member)
                    if problem:
                        problems.append(problem)
                        continue
                    out = dest / Path(member["path"]).name
                    out.write_bytes(blob)
                    written.append(out)
    return written, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=DEFAULT_MIRRORS, help="folder of fetched mirrors")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="where the files go (git-ignored)")
    args = parser.parse_args(argv)
    written, problems = copy_files(args.mirrors, args.dest)
    for path in written:
        print(f"ok  {path}")
    for problem in problems:
        print(f"BAD {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
