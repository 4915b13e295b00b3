"""Copy the JPEG AIC-4 CSVs from a fetched mirror into ``data/public/aic4/`` and check their hashes.

The files, their commit, sizes and sha256 are in ``analysis/reference_data/aic/aic4_manifest.json``.
Fetch the repository first (the ``fetch`` tool mirrors ``github:jpeg-aic/JPEG-AIC-4-datasets`` as a git
directory); nothing is downloaded here.

Usage::

    python scripts/fetch_aic4_data.py [--mirror GIT_DIR] [--dest data/public/aic4] [--zip] [--fixture DIR]

``--zip`` also writes ``<dest>/aic4.zip``, the archive ``POST /api/v1/iqa-datasets`` (``layout=aic4``) or
``licbench dataset import --layout aic4`` takes. ``--fixture DIR`` writes the small test subset of
``tests/data/aic4/`` (sources 2, 6 and 7 at levels 1, 4, 7 and 10 of every codec; whole lines kept).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "analysis/reference_data/aic/aic4_manifest.json"
DEFAULT_MIRROR = Path("/work/.mirror/jpeg-aic+JPEG-AIC-4-datasets/repo")
DEFAULT_DEST = ROOT / "data/public/aic4"
ZIP_NAME = "aic4.zip"
FIXTURE_SOURCES = {2, 6, 7}
FIXTURE_LEVELS = {1, 4, 7, 10}


def _git_blob(mirror: Path, commit: str, path: str) -> bytes:
    done = subprocess.run(["git", "--git-dir", str(mirror), "show", f"{commit}:{path}"], capture_output=True)
    if done.returncode != 0:
        raise SystemExit(f"cannot read {path} at {commit} from {mirror}: {done.stderr.decode().strip()}")
    return done.stdout


def copy_files(mirror: Path, dest: Path) -> list[Path]:
    """Every manifest file from ``mirror`` into ``dest``, each checked against its size and sha256."""
    manifest = json.loads(MANIFEST.read_text())
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in manifest["files"]:
        data = _git_blob(mirror, manifest["commit"], entry["path"])
        digest = hashlib.sha256(data).hexdigest()
        if len(data) != entry["size"] or digest != entry["sha256"]:
            raise SystemExit(
                f"{entry['path']}: {len(data)} bytes, sha256 {digest}; the manifest says "
                f"{entry['size']} bytes, {entry['sha256']}"
            )
        target = dest / entry["path"]
        target.write_bytes(data)
        written.append(target)
    return written


def build_zip(files: list[Path], target: Path) -> Path:
    """The two CSVs at the root of one zip (the ``archive`` the aic4 import takes)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.name)
    return target


def _keep(fields: list[str], header: list[str]) -> bool:
    row = dict(zip(header, fields))
    return int(row["img_num"]) in FIXTURE_SOURCES and int(row["dlevel"]) in FIXTURE_LEVELS


def build_fixture(files: list[Path], folder: Path) -> None:
    """The test subset: header plus the kept rows of each CSV, byte for byte (CRLF line ends kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        lines = path.read_bytes().decode("utf-8").splitlines(keepends=True)
        header = lines[0].strip().split(",")
        kept = [lines[0]] + [line for line in lines[1:] if _keep(line.strip().split(","), header)]
        text = "".join(kept)
        (folder / path.name).write_bytes(text.encode("utf-8") if text.endswith("\n") else (text + "\r\n").encode())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR, help="the fetched git directory")
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST)
    parser.add_argument("--zip", action="store_true", help=f"also write <dest>/{ZIP_NAME}")
    parser.add_argument("--fixture", type=Path, help="also write the small test subset into this folder")
    args = parser.parse_args(argv)
    if not args.mirror.exists():
        raise SystemExit(f"{args.mirror} does not exist: fetch github:jpeg-aic/JPEG-AIC-4-datasets first")
    files = copy_files(args.mirror, args.dest)
    for path in files:
        print(f"{path}  ok ({path.stat().st_size} bytes, sha256 as in the manifest)")
    if args.zip:
        print(build_zip(files, args.dest / ZIP_NAME))
    if args.fixture:
        build_fixture(files, args.fixture)
        print(f"fixture subset in {args.fixture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
