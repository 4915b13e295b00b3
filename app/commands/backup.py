"""``licbench backup DEST``, ``licbench restore SRC [--replace]``, ``licbench verify [--prune]`` (issue 32)."""

from __future__ import annotations

import sys

from app.commands import CommandError


def _settings():
    from app.settings import get_settings

    return get_settings()


def _backup(args) -> int:
    from app.services.operations.backup import BackupError, backup

    try:
        report = backup(_settings(), args.dest)
    except BackupError as exc:
        raise CommandError(str(exc)) from None
    print(
        f"backup written to {report.path}: schema {report.schema_revision}, "
        f"{sum(report.rows.values())} rows in {len(report.rows)} tables, {report.files} files "
        f"({report.bytes / 1e6:.1f} MB)"
    )
    for key in report.missing:
        print(f"warning: a row names {key}, which is missing from DATA_DIR (not in the backup)", file=sys.stderr)
    for key in report.mismatched:
        print(f"warning: {key} does not match the sha256 its row recorded (backed up as it is)", file=sys.stderr)
    return 1 if report.missing or report.mismatched else 0


def _restore(args) -> int:
    from app.services.operations.backup import BackupError
    from app.services.operations.restore import restore

    try:
        report = restore(_settings(), args.source, replace=args.replace)
    except BackupError as exc:
        raise CommandError(f"{exc}; nothing was changed") from None
    print(
        f"restored {sum(report.rows.values())} rows and {report.files} files (backup schema "
        f"{report.schema_revision}, migrated to head)"
    )
    if report.requeued_jobs:
        sent = (
            "sent to the queue"
            if report.send_error is None
            else f"NOT sent ({report.send_error}): a worker's sweep sends them once the broker answers"
        )
        print(f"{report.requeued_tasks} unfinished tasks of jobs {report.requeued_jobs} queued again, {sent}")
    if report.requeued_datasets or report.requeued_crop_studies:
        what = [f"imports of data sets {report.requeued_datasets}"] if report.requeued_datasets else []
        what += [f"crop scores of studies {report.requeued_crop_studies}"] if report.requeued_crop_studies else []
        print(f"unfinished {' and '.join(what)} sent again")
    if report.analysis_send_error:
        print(
            f"unfinished data-set imports or crop scores NOT sent ({report.analysis_send_error}): crop scores "
            "are sent again when the study's report is next asked for; a data-set import stays queued until the "
            "backup is restored again (--replace) with the broker up",
            file=sys.stderr,
        )
    if report.scales_unsent:
        print(f"the scales of studies {report.scales_unsent} are computed again when next asked for")
    return 0


def _verify(args) -> int:
    from app.services.operations.verify import verify

    settings = _settings()
    try:
        report = verify(settings, prune=args.prune, min_age_s=args.min_age)
    except Exception as exc:  # the database is unreachable, say
        raise CommandError(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    for key in report.missing:
        print(f"missing: {key}")
    for key in report.changed:
        print(f"changed: {key} (does not match its recorded sha256)")
    for key in report.unreferenced:
        print(f"{'pruned' if args.prune else 'unreferenced'}: {key}")
    if report.hashed:
        print(f"recorded the sha256 of {len(report.hashed)} files written before hashes were kept")
    if report.too_recent:
        print(
            f"{report.too_recent} unreferenced files younger than {args.min_age:g} s were left alone "
            "(a running upload or task may still name them)"
        )
    print(
        f"{report.checked} files checked: {len(report.missing)} missing, {len(report.changed)} changed, "
        f"{len(report.unreferenced)} unreferenced" + (" (removed)" if args.prune else "")
    )
    return 0 if report.ok else 1


def register(subparsers) -> None:
    from pathlib import Path

    parser = subparsers.add_parser(
        "backup",
        help="write a consistent backup of the database and stored files "
        "into a new directory (the service may keep running)",
    )
    parser.add_argument("dest", type=Path, help="new directory for the backup")
    parser.set_defaults(handler=_backup)

    parser = subparsers.add_parser(
        "restore", help="restore a backup into DATA_DIR and DATABASE_URL (stop the server and workers first)"
    )
    parser.add_argument("source", type=Path, help="directory written by `licbench backup`")
    parser.add_argument("--replace", action="store_true", help="overwrite a target that already holds data")
    parser.set_defaults(handler=_restore)

    parser = subparsers.add_parser(
        "verify", help="check every stored file against its recorded sha256 and list files no row names"
    )
    parser.add_argument("--prune", action="store_true", help="remove the files no row names")
    parser.add_argument(
        "--min-age",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="leave unreferenced files younger than this alone (default 3600)",
    )
    parser.set_defaults(handler=_verify)
