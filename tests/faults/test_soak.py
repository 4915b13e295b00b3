"""The short chaos soak (issue 32): 8 clients for about a minute against one `licbench run` on PostgreSQL and a
persistent Redis, with two faults (SIGKILL of the API server, SIGKILL of a worker pool process); nothing the
clients were told may be lost or duplicated, every job finishes, and no 5xx comes but the documented 503s inside a
fault window. No timings are asserted (`benchmarks/soak.py` prints them)."""
from __future__ import annotations

import random

import pytest

from tests.faults.conftest import REDIS_VISIBILITY_TIMEOUT_S
from tests.support.faults import new_stack
from tests.support.soak import Faults, SupervisedRun, format_report, soak_phase
from tests.support.servers import postgres_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIENT_SECONDS = 60
SCHEDULE = [(15.0, "server"), (35.0, "pool")]


def test_short_soak_loses_and_duplicates_nothing_through_two_faults(redis_broker, tmp_path):
    with postgres_server() as database_url:
        stack = new_stack(database_url, redis_broker.url, tmp_path / "data", UPLOADS_PER_MINUTE="0",
                          BROKER_VISIBILITY_TIMEOUT_S=REDIS_VISIBILITY_TIMEOUT_S, TASK_STALE_S="20",
                          SWEEP_INTERVAL_S="5")
        run = SupervisedRun(stack, concurrency=2)
        try:
            run.start()
            faults = Faults(run, random.Random(32))
            report = soak_phase(stack, faults, database_url, seconds=CLIENT_SECONDS, clients=8, schedule=SCHEDULE,
                                drain_timeout=90, log=print, seed=32, think_s=(0.2, 0.6))
        finally:
            run.stop()
            stack.close()
    summary = format_report(report, "short soak")
    print("\n" + summary)
    assert [w.kind for w in report.faults] == ["server", "pool"], summary
    assert report.jobs_accepted > 0 and report.answers_confirmed > 0, summary  # the clients did work
    assert not report.unfinished and not report.failed_without_reason and not report.accepted_missing, summary
    assert report.results_lost == 0, summary
    assert report.duplicated_db == 0 and report.duplicated_api == 0, summary
    assert report.answers_lost == 0, summary
    assert report.undocumented_5xx == [], summary
