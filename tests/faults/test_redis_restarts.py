"""Redis killed (SIGKILL) and restarted mid-job, then restarted gracefully (SHUTDOWN) later in the same job:
the job completes, every result once. Redis keeps its queue in an append-only file fsynced on every write (as
docker-compose.yml runs it); the worker reconnects and requeues what it held; anything still unacknowledged comes
back after BROKER_VISIBILITY_TIMEOUT_S (10 s here)."""

from __future__ import annotations

import time

from tests.support.faults import (
    FAULT_RATE_POINTS,
    FAULT_ROWS,
    assert_complete_once,
    catch_task_midway,
    seconds_until_resumed,
    start_fault_job,
)


def test_job_completes_after_redis_is_killed_and_after_it_is_shut_down(redis_stack, redis_broker):
    job_id = start_fault_job(redis_stack, "redis-restarts")
    report = []
    for how in ("sigkill", "shutdown"):
        caught = catch_task_midway(redis_stack, job_id, len(FAULT_RATE_POINTS))
        waiting = redis_broker.queued()
        stopped_at = time.monotonic()
        redis_broker.kill() if how == "sigkill" else redis_broker.shutdown()
        time.sleep(1.0)  # down for a moment: the worker sees the connection drop
        redis_broker.start()  # same port, same append-only file
        restored = redis_broker.queued()  # read before the worker reconnects (it retries after ~2 s)
        if waiting >= 2:  # the worker takes at most one more between the count and the stop
            assert restored >= 1, "Redis lost its queue: append-only persistence is off?"
        resumed = seconds_until_resumed(redis_stack, job_id, caught, stopped_at)
        report.append(
            f"{how}: {waiting} messages waiting, {restored} back after the restart, task {caught.task} "
            f"caught at {caught.rows}/{len(FAULT_RATE_POINTS)} stored its next row {resumed:.1f} s later"
        )
    redis_stack.wait_for_job(job_id, timeout=180)
    assert_complete_once(redis_stack, job_id, FAULT_ROWS)
    assert redis_stack.worker.poll() is None, "the worker exited instead of reconnecting"
    print("\n[faults] redis " + "; ".join(report))
