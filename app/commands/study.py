"""``licbench study import``: a published study's answers (pwcmp or JPEG AIC-3 CSVs) as a read-only study.

The same check as ``POST /api/v1/studies/import`` (bad input: a one-line error naming file, row and column,
nothing stored). The scale is queued for the workers; ``--wait`` computes it here and prints it.
"""

from __future__ import annotations

from pathlib import Path

from app.commands import CommandError


def _import(args) -> int:
    from app.db.migrate import upgrade_to_head
    from app.db.session import session_factory, session_scope
    from app.services.accounts import users
    from app.services.errors import ServiceError
    from app.services.studies import studies, study_imports

    files = []
    for path in map(Path, args.files):
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        files.append((path.name, path.read_bytes()))
    from app.settings import get_settings

    upgrade_to_head()
    limit = get_settings().max_upload_bytes
    for name, content in files:
        if len(content) > limit:
            raise CommandError(f"file {name!r} is larger than the upload limit of {limit} bytes")
    try:
        with session_scope() as session:
            owner = users.require_user(session, args.owner).id if args.owner else None
            study, body = study_imports.import_study(
                session,
                study_imports.ImportSpec(
                    name=args.name or files[0][0],
                    format=args.format,
                    files=files,
                    reference=args.reference,
                    visibility=args.visibility,
                    owner_id=owner,
                ),
            )
            study_id = body["id"]
        groups = len({c["group"] for c in body["conditions"]})
        print(
            f"study {study_id} “{body['name']}” imported ({body['method']}): {body['answers']} answers from "
            f"{body['observers']} observers, {len(body['conditions'])} conditions in {groups} groups"
        )
        if not args.wait:
            with session_scope() as session:
                studies.request_scale(session, studies.get_study(session, study_id))
            print(f"scale queued for the workers; GET /api/v1/studies/{study_id}/scale")
            return 0
        studies.compute_and_store_scale(session_factory(), study_id)
        with session_scope() as session:
            scale = studies.study_scale(session, study_id)
    except ServiceError as exc:
        raise CommandError(exc.message) from None
    if scale is None:
        raise CommandError(f"study {study_id}: the scale could not be computed")
    for c in sorted(scale["conditions"], key=lambda c: (c["group"], -(c["score"] or 0))):
        score = "   –   " if c["score"] is None else f"{c['score']:+7.3f}"
        print(f"  {c['group']:<8} {c['label']:<32} {score} {scale['unit']}  n={c['n']}")
    for warning in scale["warnings"]:
        print(f"  warning: {warning}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("study", help="Human studies: import published answers.")
    sub = parser.add_subparsers(dest="study_command", required=True)
    imp = sub.add_parser("import", help="Import pwcmp or JPEG AIC-3 response CSVs as a read-only study.")
    imp.add_argument("files", metavar="FILE", nargs="+", help="CSV files (AIC-3: BTC and PTC files together)")
    imp.add_argument("--format", required=True, choices=["pwcmp", "aic3"])
    imp.add_argument(
        "--reference",
        metavar="LABEL",
        help="pwcmp: the label at 0 in every group (default: a licbench export's reference, else each group's mean)",
    )
    imp.add_argument("--name", help="the study's name (default: the first file's name)")
    imp.add_argument("--owner", metavar="USER", help="the owning user (default: none; admins see it)")
    imp.add_argument("--visibility", choices=["private", "public"], default="private")
    imp.add_argument("--wait", action="store_true", help="compute the scale here instead of queueing it")
    imp.set_defaults(handler=_import)
