"""Token buckets of the login and upload limits (app/services/accounts/rate_limit.py) on an injected clock."""

from __future__ import annotations

import pytest

from app.api.errors import headers_of, status_of
from app.services.accounts.rate_limit import Rate, RateLimited, RateLimiter, refuse_if_empty, require


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_its_capacity_at_once_then_one_per_refill_interval():
    clock = Clock()
    limiter = RateLimiter(clock)
    rate = Rate(6, period=60)  # 6 at once, then one every 10 s
    assert [limiter.acquire([("k", rate)]) for _ in range(6)] == [0.0] * 6
    assert limiter.acquire([("k", rate)]) == pytest.approx(10.0)
    clock.now += 4
    assert limiter.acquire([("k", rate)]) == pytest.approx(6.0)  # refused requests take nothing
    clock.now += 6
    assert limiter.acquire([("k", rate)]) == 0.0
    assert limiter.acquire([("k", rate)]) == pytest.approx(10.0)
    clock.now += 3600  # a long pause refills to the capacity, no more
    assert [limiter.acquire([("k", rate)]) for _ in range(7)] == [0.0] * 6 + [pytest.approx(10.0)]


def test_keys_are_independent_and_a_request_takes_from_all_its_buckets_or_none():
    clock = Clock()
    limiter = RateLimiter(clock)
    rate = Rate(2)
    assert limiter.acquire([("ip:a", rate), ("user:1", rate)]) == 0.0
    assert limiter.acquire([("ip:b", rate), ("user:1", rate)]) == 0.0
    # user 1 is empty: the refusal takes nothing from ip:c, which still has both tokens afterwards
    assert limiter.acquire([("ip:c", rate), ("user:1", rate)]) > 0
    assert limiter.acquire([("ip:c", rate)]) == 0.0 and limiter.acquire([("ip:c", rate)]) == 0.0
    assert limiter.acquire([("ip:c", rate)]) > 0


def test_zero_capacity_means_no_limit():
    limiter = RateLimiter(Clock())
    assert all(limiter.acquire([("k", Rate(0))]) == 0.0 for _ in range(1000))
    assert len(limiter) == 0


def test_charge_counts_after_the_fact_and_refuse_if_empty_takes_nothing():
    clock = Clock()
    limiter = RateLimiter(clock)
    rate = Rate(3, period=30)  # one token per 10 s
    for _ in range(3):
        refuse_if_empty(limiter, "failures", [("name", rate)])
        limiter.charge("name", rate)
    with pytest.raises(RateLimited) as refused:
        refuse_if_empty(limiter, "failures", [("name", rate)])
    assert refused.value.retry_after == 10
    assert status_of(refused.value) == 429 and headers_of(refused.value) == {"Retry-After": "10"}
    assert "too many failures" in refused.value.message
    clock.now += 10
    refuse_if_empty(limiter, "failures", [("name", rate)])


def test_require_raises_with_retry_after_rounded_up():
    clock = Clock()
    limiter = RateLimiter(clock)
    rate = Rate(1, period=7)
    require(limiter, "uploads", [("k", rate)])
    clock.now += 0.5
    with pytest.raises(RateLimited) as refused:
        require(limiter, "uploads", [("k", rate)])
    assert refused.value.retry_after == 7  # 6.5 s -> 7


def test_bucket_count_is_bounded():
    clock = Clock()
    limiter = RateLimiter(clock, max_buckets=50)
    for i in range(500):
        limiter.acquire([(f"ip:{i}", Rate(5))])
    assert len(limiter) <= 50
