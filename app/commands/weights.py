"""``licbench weights status`` and ``licbench weights add FILE...``: the local pretrained-weights folder.

The folder is ``WEIGHTS_DIR`` (``app.settings``); zoo files live under ``<WEIGHTS_DIR>/compressai/``
with their released names. Nothing is downloaded: files fetched elsewhere are copied in with ``add``,
which checks each name and the hash prefix it carries before copying anything.
"""

from __future__ import annotations

from pathlib import Path

from app.commands import CommandError


def _status(args) -> int:
    from app.settings import get_settings
    from models.weights_store import PRESENT, status
    from models.zoo import zoo_weight_files

    weights_dir = Path(get_settings().weights_dir)
    rows = status(weights_dir, zoo_weight_files())
    if args.codec:
        rows = [r for r in rows if r.file.codec == args.codec]
        if not rows:
            raise CommandError(f"no expected weights files for codec {args.codec!r}")
    print(f"weights folder: {weights_dir.resolve()}")
    width = max(len(r.file.codec) for r in rows)
    for r in rows:
        line = f"{r.status:<8} {r.file.codec:<{width}} q{r.file.quality:<2} {r.file.relative_path}"
        if r.status not in (PRESENT, "missing") and r.reason:
            line += f"  ({r.reason})"
        print(line)
    counts = {s: sum(r.status == s for r in rows) for s in (PRESENT, "missing", "corrupt")}
    print(
        f"{counts[PRESENT]} present, {counts['missing']} missing, {counts['corrupt']} corrupt "
        f"of {len(rows)} expected files"
    )
    return 1 if args.check and counts[PRESENT] != len(rows) else 0


def _add(args) -> int:
    from app.settings import get_settings
    from models.weights_store import WeightsError, add
    from models.zoo import zoo_weight_files

    weights_dir = Path(get_settings().weights_dir)
    try:
        added = add(weights_dir, [Path(f) for f in args.files], zoo_weight_files())
    except WeightsError as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"cannot copy into {weights_dir}: {exc.strerror or exc}") from exc
    for row in added:
        print(f"added {row.file.relative_path} ({row.file.codec} q{row.file.quality}, hash verified)")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("weights", help="Pretrained weights: list expected files, add files.")
    sub = parser.add_subparsers(dest="weights_command", required=True)

    st = sub.add_parser("status", help="List every expected weights file: present, missing or corrupt.")
    st.add_argument("--codec", help="only the files of this codec (e.g. bmshj2018-hyperprior)")
    st.add_argument("--check", action="store_true", help="exit 1 unless every listed file is present")
    st.set_defaults(handler=_status)

    ad = sub.add_parser("add", help="Copy released weights files in after checking name and hash.")
    ad.add_argument("files", nargs="+", metavar="FILE", help="files with their released names")
    ad.set_defaults(handler=_add)
