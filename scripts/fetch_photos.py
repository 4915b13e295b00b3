"""Copy a photo set kept out of git from a fetched mirror of its repository, checking every sha256.

    python scripts/fetch_photos.py                     # the training sets (wikipedia-photos)
    python scripts/fetch_photos.py kodak               # Kodak's 24 photos for benchmarks/kodak.py (a TEST set)
    python scripts/fetch_photos.py kodak --mirror /work/.mirror/Zelex+images/repo

The mirror is a git directory without a work tree (the ``fetch`` tool writes it under
``/work/.mirror/<owner>+<name>/repo``; ``git clone --mirror`` of the repository works too). Files are read at the
manifest's commit, checked against the manifest's size and sha256 before they are written, and written atomically
into the manifest's git-ignored folder. A file that is already there and matches is left alone.

``--new-manifest OUT --repository R --source-dir D --folder F`` writes a manifest for every image under ``D`` at the
mirror's HEAD (how the committed manifests were made).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.photo_manifest import PhotoManifest, PhotoSetError, file_sha256, load_manifest  # noqa: E402

SETS = {
    "wikipedia-photos": ROOT / "models/training/data/wikipedia_photos_manifest.json",  # training
    "kodak": ROOT / "benchmarks/data/kodak_manifest.json",  # test set: never trained or tuned on
}
TRAINING_SETS = ("wikipedia-photos",)
MIRROR_ROOT = Path("/work/.mirror")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm")


def default_mirror(repository: str) -> Path:
    return MIRROR_ROOT / repository.replace("/", "+") / "repo"


def git_blob(mirror: Path, commit: str, path: str) -> bytes:
    result = subprocess.run(
        ["git", "--git-dir", str(mirror), "cat-file", "blob", f"{commit}:{path}"], capture_output=True, check=False
    )
    if result.returncode:
        raise PhotoSetError(
            f"{mirror} has no {path} at commit {commit[:12]}: {result.stderr.decode(errors='replace').strip()}"
        )
    return result.stdout


def copy_set(manifest: PhotoManifest, mirror: Path, root: Path = ROOT) -> tuple[int, int]:
    """Copy every file of ``manifest`` that is missing or differs; return (copied, already present)."""
    if not (mirror / "objects").is_dir():
        raise PhotoSetError(
            f"no git mirror of {manifest.repository} at {mirror}: fetch github:{manifest.repository} "
            f"first (or pass --mirror)"
        )
    folder = manifest.local_folder(root)
    copied = present = 0
    for f in manifest.files:
        target = folder / f.path
        if target.is_file() and target.stat().st_size == f.size and file_sha256(target) == f.sha256:
            present += 1
            continue
        data = git_blob(mirror, manifest.commit, f"{manifest.source_dir}/{f.path}")
        if len(data) != f.size or hashlib.sha256(data).hexdigest() != f.sha256:
            raise PhotoSetError(
                f"{manifest.repository}@{manifest.commit[:12]}:{manifest.source_dir}/{f.path} does "
                f"not match its size/sha256 in the manifest; nothing written for it"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, target)
        copied += 1
    return copied, present


def new_manifest(mirror: Path, name: str, repository: str, source_dir: str, folder: str, licence: str) -> dict:
    commit = subprocess.run(
        ["git", "--git-dir", str(mirror), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    listing = subprocess.run(
        ["git", "--git-dir", str(mirror), "ls-tree", "-r", "--name-only", commit, "--", f"{source_dir}/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    files = []
    for path in sorted(p for p in listing if Path(p).suffix.lower() in IMAGE_SUFFIXES):
        data = git_blob(mirror, commit, path)
        files.append(
            {
                "path": str(Path(path).relative_to(source_dir)),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    return {
        "name": name,
        "repository": repository,
        "commit": commit,
        "source_dir": source_dir,
        "folder": folder,
        "licence": licence,
        "files": files,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "sets", nargs="*", help=f"sets to copy: {', '.join(SETS)} (default: {', '.join(TRAINING_SETS)})"
    )
    parser.add_argument("--mirror", type=Path, help="the repository's git directory (default: the fetch tool's)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--new-manifest", type=Path, help="write a manifest for --source-dir at the mirror's HEAD")
    parser.add_argument("--repository")
    parser.add_argument("--source-dir")
    parser.add_argument("--folder")
    parser.add_argument("--licence", default="")
    args = parser.parse_args(argv)

    if args.new_manifest:
        if not (args.repository and args.source_dir and args.folder and len(args.sets) == 1):
            parser.error("--new-manifest needs one set name, --repository, --source-dir and --folder")
        mirror = args.mirror or default_mirror(args.repository)
        doc = new_manifest(mirror, args.sets[0], args.repository, args.source_dir, args.folder, args.licence)
        args.new_manifest.parent.mkdir(parents=True, exist_ok=True)
        args.new_manifest.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"{args.new_manifest}: {len(doc['files'])} files from {args.repository}@{doc['commit'][:12]}")
        return 0

    unknown = [s for s in args.sets if s not in SETS]
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")
    try:
        for name in args.sets or TRAINING_SETS:
            manifest = load_manifest(SETS[name])
            copied, present = copy_set(manifest, args.mirror or default_mirror(manifest.repository), args.root)
            print(
                f"{name}: {copied} copied, {present} already present and matching; all {len(manifest.files)} "
                f"sha256 checked, in {manifest.local_folder(args.root)}"
            )
    except PhotoSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
