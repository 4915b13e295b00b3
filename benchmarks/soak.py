"""Benchmark: the chaos soak (issue 32). A busy day with several faults, from ONE run, in two phases:

1. PostgreSQL + a persistent Redis (both started on loopback as the integration tests do), faults: SIGKILL of a
   worker pool process, SIGKILL of the worker, a Redis restart, a PostgreSQL restart, SIGKILL of the API server;
2. the embedded defaults (SQLite database, SQLite broker), process faults only (pool, worker, API server).

Each phase runs one `licbench run --no-demo` (it supervises the uvicorn server and the Celery worker and starts
either again when killed) and ``--clients`` client threads for ``--minutes``: uploads of two tiny photos, jobs with
JPEG, WebP and (half of them) ``licbench-multirate`` on those photos, study sessions answering pairwise trials,
reads of results, RD, BD-rate and the leaderboard; a client submits a job only while fewer than
``--max-unfinished-jobs`` accepted jobs are queued or running (a steady day, not a backlog growing for the whole
run). A fault comes every ``--fault-interval`` seconds (drawn
uniformly, default 120-240), at times and in an order drawn from the printed ``--seed``. The timeouts that decide
how soon a killed task runs again are the production defaults unless ``--short-timeouts`` is given.

At the end of each phase it prints (definitions in ``tests/support/soak.py``): whether every job finished, results
lost and duplicated, study answers lost, 5xx answers other than the documented 503s inside a fault window,
p50/p99 per endpoint outside the fault windows, and the longest wait of a running job after a fault. Exit code 1
when anything was lost or duplicated, a job did not finish, or an undocumented 5xx came.

    python benchmarks/soak.py [--minutes 20] [--clients 8] [--seed N] [--fault-interval 120,240]
                              [--phases postgres,embedded] [--drain-minutes 10]

All traffic goes to 127.0.0.1; every loop stops by itself.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.faults import new_stack, persistent_redis  # noqa: E402
from tests.support.restartable_postgres import restartable_postgres  # noqa: E402
from tests.support.soak import PROCESS_FAULTS, Faults, SupervisedRun, fault_schedule, format_report, soak_phase  # noqa: E402

# --short-timeouts: the fault tests' values (tests/faults/conftest.py), so killed tasks come back in seconds.
SHORT_TIMEOUTS = {
    "EMBEDDED_BROKER_LEASE_S": "6",
    "BROKER_VISIBILITY_TIMEOUT_S": "10",
    "TASK_STALE_S": "20",
    "SWEEP_INTERVAL_S": "5",
    "TASK_REDELIVERY_S": "30",
}


def log(message: str) -> None:
    print(message, flush=True)


def run_phase(name: str, args: argparse.Namespace, rng: random.Random, workdir: Path) -> bool:
    settings = {"UPLOADS_PER_MINUTE": "0"}  # one client address sends every upload here
    if args.short_timeouts:
        settings.update(SHORT_TIMEOUTS)
    seconds = args.minutes * 60
    with ExitStack() as resources:
        redis = postgres = None
        if name == "postgres":
            postgres = resources.enter_context(restartable_postgres())
            redis = resources.enter_context(persistent_redis(workdir / "redis"))
            stack = new_stack(postgres.url, redis.url, workdir / "data", **settings)
            database_url = postgres.url
        else:
            data = workdir / "data"
            data.mkdir(parents=True)
            database_url = f"sqlite:///{data / 'licbench.sqlite'}"
            stack = new_stack(database_url, f"sqla+sqlite:///{data / 'broker.sqlite'}", data, **settings)
        resources.callback(stack.close)
        run = SupervisedRun(stack, concurrency=args.concurrency)
        resources.callback(run.stop)
        run.start()
        faults = Faults(rng, run=run, redis=redis, postgres=postgres)
        schedule = fault_schedule(rng, seconds, args.fault_interval, faults.available())
        log(
            f"phase {name}: {args.clients} clients for {args.minutes:g} min; faults at "
            + ", ".join(f"{at:.0f} s {kind}" for at, kind in schedule)
        )
        report = soak_phase(
            stack,
            faults,
            database_url,
            seconds=seconds,
            clients=args.clients,
            schedule=schedule,
            drain_timeout=args.drain_minutes * 60,
            log=log,
            seed=rng.randrange(10**6),
            max_unfinished_jobs=args.max_unfinished_jobs,
        )
        log(format_report(report, f"phase {name}"))
        restarts = stack.log("run.log").count("restarted (pid")
        log(f"`licbench run` restarts logged: {restarts}")
        return report.ok


def interval(text: str) -> tuple[float, float]:
    """``MIN,MAX`` seconds, 0 < MIN <= MAX."""
    try:
        low, high = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX seconds, e.g. 120,240; got {text!r}") from None
    if not 0 < low <= high:
        raise argparse.ArgumentTypeError(f"expected 0 < MIN <= MAX; got {text!r}")
    return low, high


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="client time per phase")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=None, help="fault times and order, client choices (printed)")
    parser.add_argument(
        "--fault-interval",
        type=interval,
        default=(120.0, 240.0),
        help="seconds between faults: MIN,MAX (default 120,240)",
    )
    parser.add_argument("--phases", default="postgres,embedded")
    parser.add_argument("--drain-minutes", type=float, default=10.0, help="the most to wait for jobs at the end")
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool processes")
    parser.add_argument(
        "--max-unfinished-jobs",
        type=int,
        default=8,
        help="clients submit a job only while fewer accepted jobs are queued or running",
    )
    parser.add_argument(
        "--short-timeouts",
        action="store_true",
        help="redelivery and stale-task timeouts of seconds (the fault tests' values)",
    )
    args = parser.parse_args(argv)
    # Stopped early (Ctrl-C, or SIGTERM/SIGINT to a background run): unwind, so every server it started is stopped.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    unknown = set(args.phases.split(",")) - {"postgres", "embedded"}
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(sorted(unknown))}: choose from postgres,embedded")
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**9)
    log(f"soak seed {seed} (rerun with --seed {seed}); process faults: {', '.join(PROCESS_FAULTS)}")
    rng = random.Random(seed)
    ok = True
    for name in args.phases.split(","):
        started = time.monotonic()
        # The phase's logs (server, worker, `licbench run`) stay behind when it fails, for the post-mortem.
        workdir = Path(tempfile.mkdtemp(prefix=f"licbench-soak-{name}-"))
        passed = run_phase(name, args, rng, workdir)
        if passed:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"phase {name} failed: its logs are kept in {workdir}")
        ok &= passed
        log(f"phase {name} took {(time.monotonic() - started) / 60:.1f} min in all\n")
    log("soak: " + ("PASS (nothing lost or duplicated, every job finished, no undocumented 5xx)" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
