"""``licbench dataset import|list|show``: IQA data sets from the lab's files (a zip or a folder).

``import`` runs the same check as ``POST /api/v1/iqa-datasets`` (bad archive: a one-line error, nothing
stored), stores the data set and queues its verification and scoring for the workers; ``--wait``
verifies and scores it in this process instead and prints each metric's SROCC. A scores-only layout
(``aic4``) has nothing to score: it prints each shipped metric's SROCC at once.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.commands import CommandError


def _import(args) -> int:
    from analysis.iqa_datasets import layout_names
    from app.db.migrate import upgrade_to_head
    from app.db.session import session_factory, session_scope
    from app.services.datasets import iqa_datasets
    from app.services.errors import ServiceError
    from app.services.storage import default_storage

    source = Path(args.path)
    if not source.exists():
        raise CommandError(f"{source} does not exist")
    if args.layout not in layout_names():
        raise CommandError(f"unknown layout {args.layout!r}; one of {', '.join(layout_names())}")
    metrics = [m for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    upgrade_to_head()
    storage = default_storage()
    try:
        with session_scope() as session:
            dataset = iqa_datasets.import_dataset(
                session,
                storage,
                source,
                name=args.name,
                layout=args.layout,
                higher_is_better=args.higher_is_better,
                metrics=metrics,
            )
            dataset_id = dataset.id
        print(
            f"data set {dataset_id} “{args.name}” stored: {dataset.n_references} references, "
            f"{dataset.n_distorted} distorted ({dataset.unit}); metrics {', '.join(dataset.metrics)}"
        )
        if iqa_datasets.is_scores_only(args.layout):
            print(iqa_datasets.SCORES_ONLY_MESSAGE)
            return _print_outcome(dataset_id)
        if not args.wait:
            with session_scope() as session:
                iqa_datasets.enqueue_prepare(session, iqa_datasets.get_dataset(session, dataset_id))
            print(f"queued for the workers; follow it with `licbench dataset show {dataset_id}`")
            return 0
        iqa_datasets.run_inline(session_factory(), storage, dataset_id)
    except ServiceError as exc:
        raise CommandError(exc.message) from None
    return _print_outcome(dataset_id)


def _print_outcome(dataset_id: int) -> int:
    from app.db.session import session_scope
    from app.services.datasets import iqa_datasets
    from app.services.studies import correlation

    with session_scope() as session:
        dataset = iqa_datasets.get_dataset(session, dataset_id)
        if dataset.status == "failed":
            raise CommandError(f"data set {dataset_id} failed: {dataset.error}")
        source = correlation.dataset_source(session, dataset_id)
        if isinstance(source, correlation.Pending):  # queued for the workers, not scored yet
            raise CommandError(f"data set {dataset_id} is still {source.status} ({source.done}/{source.total})")
        report = correlation.correlation(session, source, "overall", "logistic4")
    print(f"data set {dataset_id} scored; agreement with people (unit {report['unit']}, n={report['n']}):")
    for row in report["metrics"]:
        if row.get("two_afc"):
            print(f"  {row['metric']:<14} 2AFC {_num(row['two_afc']['share'])}")
        else:
            print(
                f"  {row['metric']:<14} SROCC {_num(row['srocc'])} {_interval(row['srocc_ci'])}  "
                f"PLCC {_num(row['plcc'])}{'  (flipped)' if row['flipped'] else ''}"
            )
    return 0


def _num(value) -> str:
    return "   –  " if value is None else f"{value:+.3f}"


def _interval(ci) -> str:
    return "" if not ci else f"[{ci[0]:+.3f}, {ci[1]:+.3f}]"


def _list(_args) -> int:
    from app.db.migrate import upgrade_to_head
    from app.db.session import session_scope
    from app.services.datasets import iqa_datasets

    upgrade_to_head()
    with session_scope() as session:
        rows = iqa_datasets.list_datasets(session)
        for d in rows:
            print(f"{d.id:>4}  {d.status:<9} {d.layout:<20} {d.n_distorted:>6} distorted  {d.name}")
        if not rows:
            print("no data sets")
    return 0


def _show(args) -> int:
    from app.db.migrate import upgrade_to_head
    from app.db.session import session_scope
    from app.services.datasets import iqa_datasets
    from app.services.errors import ServiceError

    upgrade_to_head()
    try:
        with session_scope() as session:
            print(json.dumps(iqa_datasets.dataset_json(iqa_datasets.get_dataset(session, args.id)), indent=2))
    except ServiceError as exc:
        raise CommandError(exc.message) from None
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("dataset", help="IQA data sets (TID2013, KADID-10k, CSIQ, LIVE, CLIC, CSV, AIC-4).")
    sub = parser.add_subparsers(dest="dataset_command", required=True)

    imp = sub.add_parser("import", help="Check and store a data set from its zip or folder, then score it.")
    imp.add_argument("path", metavar="PATH", help="the data set's zip archive or unpacked folder")
    imp.add_argument(
        "--layout",
        required=True,
        help="tid2013, kadid10k, csiq, live, clic2021-perceptual, generic-csv, aic4 (scores only)",
    )
    imp.add_argument("--name", required=True, help="a name for the data set")
    imp.add_argument("--metrics", help="comma-separated metric names (default: every available metric)")
    direction = imp.add_mutually_exclusive_group()
    direction.add_argument(
        "--higher-is-better",
        dest="higher_is_better",
        action="store_true",
        default=None,
        help="generic-csv: scores are MOS-like",
    )
    direction.add_argument(
        "--lower-is-better", dest="higher_is_better", action="store_false", help="generic-csv: scores are DMOS-like"
    )
    imp.add_argument("--wait", action="store_true", help="verify and score here instead of queueing for workers")
    imp.set_defaults(handler=_import)

    ls = sub.add_parser("list", help="List imported data sets.")
    ls.set_defaults(handler=_list)

    show = sub.add_parser("show", help="Status and progress of one data set (JSON).")
    show.add_argument("id", type=int)
    show.set_defaults(handler=_show)
