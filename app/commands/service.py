"""``licbench db upgrade``, ``licbench demo``, ``licbench worker`` and ``licbench run``."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from app.commands import CommandError


def _upgrade(_args=None) -> int:
    from app.db.migrate import upgrade_to_head

    upgrade_to_head()
    print("database is at the latest schema")
    return 0


def _demo(_args=None) -> int:
    from app.db.session import session_scope
    from app.services import catalog, demo, queue, users
    from app.services.storage import default_storage

    with session_scope() as session:
        admin, password = users.ensure_demo_admin(session)
        created = demo.create_demo_job(session, default_storage(), owner=admin)
    if password is not None:
        print(f"demo login: user {admin.name!r}, password {password!r} (generated now, shown once; "
              f"`licbench user reset-password {admin.name}` makes a new one)")
    else:
        print(f"demo login: user {admin.name!r} with the password printed when it was created "
              f"(`licbench user reset-password {admin.name}` makes a new one)")
    if created is None:
        print("demo job already exists")
        return 0
    job, tasks = created
    with session_scope() as session:
        kinds = {name: c.kind for name, c in catalog.codecs(session).items()}
    queue.enqueue(tasks, kinds)
    print(f"demo job {job.id} queued: {len(tasks)} tasks")
    return 0


def worker_command(concurrency: int, queues: str, prefetch: int | None = None, name: str = "") -> list[str]:
    """The Celery worker command line. ``prefetch``: messages each worker process reserves ahead (Celery's
    ``--prefetch-multiplier``; 1 for long learned-codec tasks, so a queued task never waits behind another one
    in a busy process while a second worker idles; default: the app's ``worker_prefetch_multiplier``).
    ``name``: the node name (``-n``), e.g. ``gpu@%h`` when several workers share a host."""
    command = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--loglevel", "INFO",
               "--concurrency", str(concurrency), "--pool", "prefork", "-Q", queues, "--without-gossip",
               "--without-mingle", "--without-heartbeat"]
    if prefetch:
        command += ["--prefetch-multiplier", str(prefetch)]
    if name:
        command += ["-n", name]
    return command


def default_queues() -> str:
    from app.services.queue import CPU_QUEUE
    from app.settings import get_settings

    return ",".join(dict.fromkeys([CPU_QUEUE, get_settings().learned_queue]))


def _worker(args) -> int:
    from app.settings import get_settings

    concurrency = args.concurrency or get_settings().worker_concurrency
    os.environ["WORKER_CONCURRENCY"] = str(concurrency)  # worker processes split the cores by it
    os.execv(sys.executable, worker_command(concurrency, args.queues or default_queues(), args.prefetch, args.name))
    return 0  # pragma: no cover


def _run(args) -> int:
    import uvicorn

    from app.settings import get_settings

    settings = get_settings()
    port = int(os.environ.get("PORT", settings.port))
    _upgrade()
    worker = subprocess.Popen(worker_command(settings.worker_concurrency, default_queues()))
    try:
        if not args.no_demo:
            _demo()
        print(f"licbench on http://{settings.host}:{port}/ (API docs at /docs); Ctrl-C stops server and worker")
        uvicorn.run("app.main:app", host=settings.host, port=port, log_level="info")
    except OSError as exc:
        raise CommandError(str(exc)) from None
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
    return 0


def register(subparsers) -> None:
    db = subparsers.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate to the latest schema").set_defaults(handler=_upgrade)

    subparsers.add_parser("demo", help="load the demo image set and queue the demo job").set_defaults(handler=_demo)

    worker = subparsers.add_parser("worker", help="run a Celery worker")
    worker.add_argument("--concurrency", type=int, default=0)
    worker.add_argument("--queues", default="", help="comma-separated Celery queues (default: cpu and LEARNED_QUEUE)")
    worker.add_argument("--prefetch", type=int, default=0,
                        help="messages reserved ahead per worker process (1 for a learned-codec queue: long tasks; "
                             "default 4, for short classical tasks)")
    worker.add_argument("--name", default="", help="Celery node name, e.g. gpu@%%h (several workers on one host)")
    worker.set_defaults(handler=_worker)

    run = subparsers.add_parser("run", help="migrate, start a worker and the web server, queue the demo job")
    run.add_argument("--no-demo", action="store_true")
    run.set_defaults(handler=_run)

    # `licbench token ...` (API tokens of users) lives in app.commands.user.
