"""The short chaos soak (issue 32): 8 clients for 45 s against the fault tests' PostgreSQL + persistent Redis stack
(the package's ``redis_stack``: no second start-up), with two faults: SIGKILL of a worker pool process, then a
Redis restart. Nothing the clients were told may be lost or duplicated, every job finishes, and no 5xx comes but
the documented 503s inside a fault window. No timings are asserted (`benchmarks/soak.py` prints them, and runs the
API-server and worker kills under `licbench run`, whose restart of a killed server
``test_supervised_worker.py`` tests)."""

from __future__ import annotations

import random
import time

import pytest

from tests.support.soak import Faults, format_report, soak_phase

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIENT_SECONDS = 45
SCHEDULE = [(10.0, "pool"), (25.0, "redis")]


def test_short_soak_loses_and_duplicates_nothing_through_two_faults(redis_stack, redis_broker):
    began = time.monotonic()
    log = lambda message: print(f"[{time.monotonic() - began:5.0f} s] {message}")  # noqa: E731
    faults = Faults(random.Random(32), stack=redis_stack, redis=redis_broker)
    report = soak_phase(
        redis_stack,
        faults,
        redis_stack.env["DATABASE_URL"],
        seconds=CLIENT_SECONDS,
        clients=8,
        schedule=SCHEDULE,
        drain_timeout=120,
        log=log,
        seed=32,
        think_s=(0.2, 0.6),
        max_unfinished_jobs=3,
    )  # the stack's one worker process drains them in seconds
    log("stopped")
    summary = format_report(report, "short soak")
    print("\n" + summary)
    assert [w.kind for w in report.faults] == ["pool", "redis"], summary
    assert report.jobs_accepted > 0 and report.answers_confirmed > 0, summary  # the clients did work
    assert not report.unfinished and not report.failed_without_reason and not report.accepted_missing, summary
    assert report.results_lost == 0, summary
    assert report.duplicated_db == 0 and report.duplicated_api == 0, summary
    assert report.answers_lost == 0, summary
    assert report.undocumented_5xx == [], summary
