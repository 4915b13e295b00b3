"""Copy pwcmp's ex3 files (the pairwise-scaling test fixture) from a fetched mirror and check their hashes.

    python scripts/fetch_pwcmp_ex3.py --mirror /work/.mirror/mantiuk+pwcmp/repo [--out tests/data/pwcmp]

The mirror is the git directory that the ``fetch`` tool makes of github.com/mantiuk/pwcmp; the files are
read at commit ``COMMIT`` with ``git show`` and written only when their sha256 matches ``FILES``.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

COMMIT = "48c9192a3c545d8da102691f36c09955a577eb8f"
FILES = {
    "examples/ex3_tmo_cmp_data.csv": "36bb3cafc4820d7703eb234a128255635c144cc788915d6c75b7d1285f8a196f",
    "examples/ex3_tmo_cmp_scaled.csv": "9572349cc931184fbce240cc3884bb2f49ad6c9e605bef7ebb719171e8dfc2dc",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", required=True, help="git directory of the fetched mantiuk/pwcmp mirror")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "tests" / "data" / "pwcmp"))
    args = parser.parse_args()
    out = Path(args.out)
    blobs = {}
    for path, sha in FILES.items():
        shown = subprocess.run(["git", "-C", args.mirror, "show", f"{COMMIT}:{path}"], capture_output=True)
        if shown.returncode != 0:
            why = shown.stderr.decode().strip()
            print(f"cannot read {path} at {COMMIT} from {args.mirror}: {why}", file=sys.stderr)
            return 1
        digest = hashlib.sha256(shown.stdout).hexdigest()
        if digest != sha:
            print(f"{path}: sha256 {digest} is not the expected {sha}", file=sys.stderr)
            return 1
        blobs[Path(path).name] = shown.stdout
    out.mkdir(parents=True, exist_ok=True)
    for name, data in blobs.items():
        (out / name).write_bytes(data)
        print(f"wrote {out / name} ({len(data)} bytes, sha256 ok)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
