"""``licbench db upgrade``, ``licbench demo``, ``licbench worker`` and ``licbench run``."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from app.commands import CommandError


def _upgrade(_args=None) -> int:
    from app.db.migrate import upgrade_to_head
    from app.db.session import session_scope
    from app.services import catalog

    upgrade_to_head()
    with session_scope() as session:
        catalog.sync_codec_table(session)
    print("database is at the latest schema")
    return 0


def _demo(_args=None) -> int:
    from app.db.session import session_scope
    from app.services import demo, queue
    from app.services.storage import default_storage

    with session_scope() as session:
        created = demo.create_demo_job(session, default_storage())
        if created is None:
            print("demo job already exists")
            return 0
        job, tasks = created
    queue.enqueue(tasks)
    print(f"demo job {job.id} queued: {len(tasks)} tasks")
    return 0


def worker_command(concurrency: int) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--loglevel", "INFO",
            "--concurrency", str(concurrency), "--pool", "prefork", "-Q", "licbench", "--without-gossip",
            "--without-mingle", "--without-heartbeat"]


def _worker(args) -> int:
    from app.settings import get_settings

    os.execv(sys.executable, worker_command(args.concurrency or get_settings().worker_concurrency))
    return 0  # pragma: no cover


def _run(args) -> int:
    import uvicorn

    from app.settings import get_settings

    settings = get_settings()
    port = int(os.environ.get("PORT", settings.port))
    _upgrade()
    worker = subprocess.Popen(worker_command(settings.worker_concurrency))
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
    worker.set_defaults(handler=_worker)

    run = subparsers.add_parser("run", help="migrate, start a worker and the web server, queue the demo job")
    run.add_argument("--no-demo", action="store_true")
    run.set_defaults(handler=_run)
