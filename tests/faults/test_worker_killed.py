"""`kill -9` of a worker pool process, then of the worker's main process (a new worker started), in the middle of
tasks of one job, on the embedded broker and on Redis: the job completes with every result exactly once.

Redelivery: the pool process's task is requeued by its own worker (``task_reject_on_worker_lost``) once billiard
reports the process lost (``worker_lost_wait`` 2 s); on the embedded broker it is next in line, on Redis kombu puts
it at the back of the queue (LPUSH; workers pop from the right), so it runs after the tasks already waiting. A
dead worker's tasks come back when its embedded-broker lease runs out
(EMBEDDED_BROKER_LEASE_S, 6 s here) or Redis's visibility timeout passes (BROKER_VISIBILITY_TIMEOUT_S, 10 s
here), and no later than the new worker is ready. The printed times are from kill to the caught task's next row.
"""
from __future__ import annotations

import sqlite3
import time

import pytest

from tests.support.faults import (FAULT_RATE_POINTS, FAULT_ROWS, FaultStack, assert_complete_once,
                                  catch_task_midway, kill, seconds_until_received_again, seconds_until_resumed,
                                  start_fault_job, wait_until)

RATE_POINTS = len(FAULT_RATE_POINTS)


def _broker_rows(stack: FaultStack) -> int:
    with sqlite3.connect(stack.data_dir / "broker.sqlite") as db:
        return db.execute("SELECT count(*) FROM licbench_broker_message").fetchone()[0]


@pytest.mark.parametrize("stack_fixture", ["embedded_stack", "redis_stack"])
def test_worker_killed_mid_task_twice_job_completes_with_every_result_once(stack_fixture, request):
    stack: FaultStack = request.getfixturevalue(stack_fixture)
    job_id = start_fault_job(stack, f"worker-kills-{stack_fixture}")

    # 1. The pool process running a task is killed; the worker's main process lives on.
    caught = catch_task_midway(stack, job_id, RATE_POINTS)
    children = stack.worker_children()
    assert len(children) == 1, children  # concurrency 1: the one pool process runs the caught task
    killed_at, killed_wall = time.monotonic(), time.time()
    kill(children[0])
    child_redelivery = seconds_until_received_again(stack, killed_wall)
    child_resumed = seconds_until_resumed(stack, job_id, caught, killed_at)
    assert stack.worker.poll() is None, "the worker's main process died with its pool process"

    # 2. The worker's main process is killed (its pool process too) and a new worker is started, in a second job:
    # on Redis the requeued task of step 1 runs last, so on an idle machine the first job can finish before a
    # second task is seen half done.
    second_job = start_fault_job(stack, f"worker-kills-again-{stack_fixture}")
    caught_again = catch_task_midway(stack, second_job, RATE_POINTS)
    killed_at, killed_wall = time.monotonic(), time.time()
    stack.kill_worker_main()
    stack.start_worker()
    restarted = time.monotonic() - killed_at
    main_redelivery = seconds_until_received_again(stack, killed_wall)
    main_resumed = seconds_until_resumed(stack, second_job, caught_again, killed_at)

    for job in (job_id, second_job):
        stack.wait_for_job(job, timeout=180)
        assert_complete_once(stack, job, FAULT_ROWS)
    log = stack.log("worker.log")
    assert "Unrecoverable error" not in log
    assert "server closed the connection unexpectedly" not in log  # a new pool process shared the main's connection
    if stack_fixture == "embedded_stack":  # acknowledged messages are deleted: the table ends empty
        wait_until(lambda: _broker_rows(stack) == 0, 30, 0.2, "embedded broker table empty")
    print(f"\n[faults] {stack_fixture}: pool process killed at {caught.rows}/{RATE_POINTS} rate points of task "
          f"{caught.task}: message received again {child_redelivery:.1f} s later, next row {child_resumed:.1f} s; "
          f"worker main process killed at {caught_again.rows}/{RATE_POINTS} of task {caught_again.task}: new worker "
          f"ready after {restarted:.1f} s, message received again {main_redelivery:.1f} s after the kill, next row "
          f"{main_resumed:.1f} s")
