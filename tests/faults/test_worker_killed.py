"""`kill -9` of a worker pool process, then of the worker's main process (a new worker started), in the middle of
tasks of one job, on the embedded broker and on Redis: the job completes with every result exactly once.

Redelivery: the pool process's task is requeued by its own worker (``task_reject_on_worker_lost``) once billiard
reports the process lost (``worker_lost_wait`` 2 s); on the embedded broker it is next in line, on Redis kombu puts
it at the back of the queue (LPUSH; workers pop from the right), so it runs after the tasks already waiting. A
dead worker's tasks come back when its embedded-broker lease runs out (EMBEDDED_BROKER_LEASE_S, 6 s here) or, on
Redis, at the first restore sweep after the visibility timeout (BROKER_VISIBILITY_TIMEOUT_S, 10 s here; a worker
sweeps when it starts and then every 5 s here, see ``engine.queue.broker_transport_options``). The printed times
are from kill to the caught task's next row.
A kill that came after the caught task finished is tried again with a new job (``kill_task_midway``).
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from tests.support.faults import (
    FAULT_RATE_POINTS,
    FAULT_ROWS,
    FaultStack,
    assert_complete_once,
    kill,
    kill_task_midway,
    seconds_until_received_again,
    seconds_until_resumed,
    wait_until,
)

RATE_POINTS = len(FAULT_RATE_POINTS)


def _broker_rows(stack: FaultStack) -> int:
    with sqlite3.connect(stack.data_dir / "broker.sqlite") as db:
        return db.execute("SELECT count(*) FROM licbench_broker_message").fetchone()[0]


@pytest.mark.parametrize("stack_fixture", ["embedded_stack", "redis_stack"])
def test_worker_killed_mid_task_twice_job_completes_with_every_result_once(stack_fixture, request):
    stack: FaultStack = request.getfixturevalue(stack_fixture)

    # 1. The pool process running a task is killed; the worker's main process lives on.
    def kill_pool_process() -> None:
        children = stack.worker_children()
        assert len(children) == 1, children  # concurrency 1: the one pool process runs the caught task
        kill(children[0])

    def restart_worker() -> None:  # a pool process killed idle can strand the task Celery was handing it
        stack.kill_worker_main()
        stack.start_worker()

    first, jobs = kill_task_midway(stack, f"worker-kills-{stack_fixture}", kill_pool_process, recover=restart_worker)
    child_redelivery = seconds_until_received_again(stack, first.wall)
    child_resumed = seconds_until_resumed(stack, first.job_id, first.caught, first.at)
    assert stack.worker.poll() is None, "the worker's main process died with its pool process"

    # 2. The worker's main process is killed (its pool process too) and a new worker is started, in a second job:
    # on Redis the requeued task of step 1 runs last, so on an idle machine the first job can finish before a
    # second task is seen half done.
    second, more_jobs = kill_task_midway(
        stack, f"worker-kills-again-{stack_fixture}", stack.kill_worker_main, recover=stack.start_worker
    )
    stack.start_worker()
    restarted = time.monotonic() - second.at
    main_redelivery = seconds_until_received_again(stack, second.wall)
    main_resumed = seconds_until_resumed(stack, second.job_id, second.caught, second.at)

    for job in jobs + more_jobs:
        stack.wait_for_job(job, timeout=180)
        assert_complete_once(stack, job, FAULT_ROWS)
    log = stack.log("worker.log")
    assert "Unrecoverable error" not in log
    assert "server closed the connection unexpectedly" not in log  # a new pool process shared the main's connection
    if stack_fixture == "embedded_stack":  # acknowledged messages are deleted: the table ends empty
        wait_until(lambda: _broker_rows(stack) == 0, 30, 0.2, "embedded broker table empty")
    print(
        f"\n[faults] {stack_fixture}: pool process killed at {first.caught.rows}/{RATE_POINTS} rate points of task "
        f"{first.caught.task} (try {first.tries}): message received again {child_redelivery:.1f} s later, next row "
        f"{child_resumed:.1f} s; worker main process killed at {second.caught.rows}/{RATE_POINTS} of task "
        f"{second.caught.task} (try {second.tries}): new worker ready after {restarted:.1f} s, message received "
        f"again {main_redelivery:.1f} s after the kill, next row {main_resumed:.1f} s"
    )
