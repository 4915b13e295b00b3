"""``licbench db upgrade``, ``licbench demo``, ``licbench worker`` and ``licbench run``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

from app.commands import CommandError


def _refuse_newer_schema() -> None:
    from app.db.migrate import SchemaTooNew, check_schema_not_newer

    try:
        check_schema_not_newer()
    except SchemaTooNew as exc:
        raise CommandError(str(exc)) from None


def _upgrade(_args=None) -> int:
    from app.db.migrate import upgrade_to_head

    _refuse_newer_schema()
    upgrade_to_head()
    print("database is at the latest schema")
    return 0


def _demo(_args=None) -> int:
    from app.db.session import session_scope
    from app.services.accounts import users
    from app.services.jobs import catalog
    from app.services.operations import demo
    from app.services.storage import default_storage
    from engine import queue

    with session_scope() as session:
        admin, password = users.ensure_demo_admin(session)
        created = demo.create_demo_job(session, default_storage(), owner=admin)
    if password is not None:
        print(
            f"demo login: user {admin.name!r}, password {password!r} (generated now, shown once; "
            f"`licbench user reset-password {admin.name}` makes a new one)"
        )
    else:
        print(
            f"demo login: user {admin.name!r} with the password printed when it was created "
            f"(`licbench user reset-password {admin.name}` makes a new one)"
        )
    if created is None:
        print("demo job already exists")
        return 0
    job, tasks = created
    with session_scope() as session:
        kinds = {name: str(c.kind) for name, c in catalog.codecs(session).items()}
    queue.enqueue(tasks, kinds)
    print(f"demo job {job.id} queued: {len(tasks)} tasks")
    return 0


def worker_command(concurrency: int, queues: str, prefetch: int | None = None, name: str = "") -> list[str]:
    """The Celery worker command line. ``prefetch``: messages each worker process reserves ahead (Celery's
    ``--prefetch-multiplier``; 1 for long learned-codec tasks, so a queued task never waits behind another one
    in a busy process while a second worker idles; default: the app's ``worker_prefetch_multiplier``).
    ``name``: the node name (``-n``), e.g. ``gpu@%h`` when several workers share a host."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.celery_app",
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
        "--pool",
        "prefork",
        "-Q",
        queues,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if prefetch:
        command += ["--prefetch-multiplier", str(prefetch)]
    if name:
        command += ["-n", name]
    return command


def default_queues() -> str:
    from app.settings import get_settings
    from engine.queue import CPU_QUEUE

    return ",".join(dict.fromkeys([CPU_QUEUE, get_settings().learned_queue]))


def _worker(args) -> int:
    from app.settings import get_settings

    _refuse_newer_schema()
    concurrency = args.concurrency or get_settings().worker_concurrency
    os.environ["WORKER_CONCURRENCY"] = str(concurrency)  # worker processes split the cores by it
    os.execv(sys.executable, worker_command(concurrency, args.queues or default_queues(), args.prefetch, args.name))
    return 0  # pragma: no cover


def _log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} licbench run: {message}", file=sys.stderr, flush=True)


def _parent_death_signal() -> Callable[[], object] | None:
    """Linux: a ``preexec_fn`` giving the worker SIGTERM when the thread that started it dies -- so a
    `licbench run` killed even by SIGKILL takes its worker along (prctl PR_SET_PDEATHSIG). Resolved in the
    parent: nothing is imported between fork and exec."""
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1


class SupervisedProcess:
    """A child of `licbench run` (the Celery worker, the uvicorn web server), started again whenever it exits:
    after 1 s, then 2, 4, ... up to ``max_delay`` s while it keeps exiting; a child that ran ``healthy_after`` s
    resets the delay to 1 s. Each exit and restart is logged under ``name``. :meth:`stop` ends it (SIGTERM:
    Celery's warm shutdown, uvicorn's graceful one; then SIGKILL)."""

    def __init__(
        self,
        command: Sequence[str],
        max_delay: float = 30.0,
        healthy_after: float = 60.0,
        log: Callable[[str], None] = _log,
        name: str = "worker",
    ) -> None:
        self.command = list(command)
        self.name = name
        self.max_delay = max_delay
        self.healthy_after = healthy_after
        self.log = log
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher = threading.Thread(target=self._watch, name=f"licbench-{name}-supervisor", daemon=True)
        self.process: subprocess.Popen | None = None
        self._preexec = _parent_death_signal()

    def _spawn(self) -> subprocess.Popen:
        # Its own session: Ctrl-C reaches `licbench run` only, which then stops the child itself (SIGTERM, warm
        # shutdown) instead of the child exiting on the SIGINT and being restarted meanwhile.
        return subprocess.Popen(self.command, preexec_fn=self._preexec, start_new_session=True)

    def start(self) -> None:
        with self._lock:
            self.process = self._spawn()
        self.log(f"{self.name} started (pid {self.process.pid})")
        self._watcher.start()

    def _watch(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            started = time.monotonic()
            process = self.process
            assert process is not None  # the watcher starts only after start() spawned the first child
            code = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started >= self.healthy_after:
                delay = 1.0
            self.log(f"{self.name} (pid {process.pid}) exited with code {code}; restarting it in {delay:g} s")
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self.process = self._spawn()
                self.restarts += 1
            self.log(f"{self.name} restarted (pid {self.process.pid}, restart {self.restarts})")
            delay = min(delay * 2, self.max_delay)

    def stop(self, timeout: float = 20.0) -> None:
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


SupervisedWorker = SupervisedProcess  # the name the worker's supervisor had first


def server_command(host: str, port: int) -> list[str]:
    """The uvicorn web server command line of `licbench run`."""
    return [sys.executable, "-m", "uvicorn", "app.main:app", "--host", host, "--port", str(port), "--log-level", "info"]


def _check_port_free(host: str, port: int) -> None:
    """A port taken by another program is a one-line error here, not a server restarted again and again."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _run(args) -> int:
    from app.settings import get_settings

    settings = get_settings()
    port = int(os.environ.get("PORT", settings.port))
    _check_port_free(settings.host, port)
    _upgrade()
    # Both children are supervised alike: a killed worker or web server (even SIGKILL) is started again.
    worker = SupervisedProcess(
        worker_command(settings.worker_concurrency, default_queues()), max_delay=settings.worker_restart_max_delay_s
    )
    server = SupervisedProcess(
        server_command(settings.host, port), max_delay=settings.worker_restart_max_delay_s, name="server"
    )
    stopping = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())  # SIGTERM: stop both, as Ctrl-C does
    worker.start()
    try:
        if not args.no_demo:
            _demo()
        server.start()
        print(
            f"licbench on http://{settings.host}:{port}/ (API docs at /docs); Ctrl-C stops server and worker",
            flush=True,
        )
        while not stopping.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        worker.stop()
        signal.signal(signal.SIGTERM, previous)
    return 0


def register(subparsers) -> None:
    db = subparsers.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate to the latest schema").set_defaults(handler=_upgrade)

    subparsers.add_parser("demo", help="load the demo image set and queue the demo job").set_defaults(handler=_demo)

    worker = subparsers.add_parser("worker", help="run a Celery worker")
    worker.add_argument("--concurrency", type=int, default=0)
    worker.add_argument("--queues", default="", help="comma-separated Celery queues (default: cpu and LEARNED_QUEUE)")
    worker.add_argument(
        "--prefetch",
        type=int,
        default=0,
        help="messages reserved ahead per worker process (Celery's prefetch multiplier; 1 suits "
        "long learned-codec tasks; default: the app's worker_prefetch_multiplier)",
    )
    worker.add_argument("--name", default="", help="Celery node name, e.g. gpu@%%h (several workers on one host)")
    worker.set_defaults(handler=_worker)

    run = subparsers.add_parser("run", help="migrate, start a worker and the web server, queue the demo job")
    run.add_argument("--no-demo", action="store_true")
    run.set_defaults(handler=_run)

    # `licbench token ...` (API tokens of users) lives in app.commands.user.
