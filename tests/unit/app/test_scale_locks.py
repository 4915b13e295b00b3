"""The per-study scale locks: one computation per study at a time, and no entry kept for a study nobody scales."""

from __future__ import annotations

import threading
import time

from app.services.studies.studies import ScaleLocks


def test_a_study_lock_is_dropped_when_its_last_request_leaves():
    locks = ScaleLocks()
    for study_id in range(1000):
        with locks.held(study_id):
            assert len(locks) == 1
    assert len(locks) == 0


def test_a_second_request_for_the_same_study_waits_then_the_lock_goes():
    locks, inside = ScaleLocks(), threading.Event()

    def second() -> None:
        with locks.held(7):
            inside.set()

    with locks.held(7):
        waiting = threading.Thread(target=second)
        waiting.start()
        while locks._locks[7].users < 2:  # the second request has taken its place behind the first
            time.sleep(0.001)
        assert not inside.is_set() and len(locks) == 1
        with locks.held(8):  # another study is not held up
            assert len(locks) == 2
    waiting.join(10)
    assert inside.is_set() and len(locks) == 0


def test_reset_while_held_forgets_the_lock_and_the_holder_leaves_cleanly():
    locks = ScaleLocks()
    with locks.held(1):
        locks.reset()
        assert len(locks) == 0
        with locks.held(1):  # a fresh lock: the reset table no longer knows the held one
            assert len(locks) == 1
    assert len(locks) == 0
