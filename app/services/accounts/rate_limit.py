"""Login and upload rate limits: in-process token buckets keyed by client IP and by user (issue 13).

A token bucket (Turner, "New dynamic algorithms for bursty traffic", 1986; the algorithm behind nginx's
``limit_req`` burst and most API gateways) holds at most ``capacity`` tokens and gains ``capacity`` tokens per
``period`` seconds, continuously. A request takes one token from every bucket it is charged to, or none: when a
bucket lacks a whole token the request is refused with the seconds until it has one (the ``Retry-After`` of the
429 answer).

Buckets live in the web server process (``app.state.rate_limiter``): one uvicorn process -> one limit. With
several server processes each keeps its own buckets, so the effective limit multiplies by their number. The
client IP is ``request.client.host``; behind a reverse proxy uvicorn puts the ``X-Forwarded-For`` address there
only when the proxy's address is listed in ``FORWARDED_ALLOW_IPS`` (uvicorn's setting, default ``127.0.0.1``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.services.errors import ServiceError

MAX_BUCKETS = 100_000  # memory bound: full (idle) buckets are dropped first, then the least recently used


class RateLimited(ServiceError):
    """Too many requests: the caller may try again after ``retry_after`` whole seconds (the API answers 429 with
    a ``Retry-After`` header)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


@dataclass(frozen=True)
class Rate:
    """``capacity`` requests at once, refilled at ``capacity`` per ``period`` seconds; capacity 0 = no limit."""

    capacity: int
    period: float = 60.0

    @property
    def per_second(self) -> float:
        return self.capacity / self.period

    @property
    def unlimited(self) -> bool:
        return self.capacity <= 0


class _Bucket:
    __slots__ = ("tokens", "stamp")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens, self.stamp = tokens, stamp


class RateLimiter:
    """Token buckets by key (``"login-ip:1.2.3.4"``, ``"upload-user:7"``); thread-safe (sync routes run in a
    thread pool). ``clock`` is injectable for tests (seconds, monotonic)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_buckets: int = MAX_BUCKETS) -> None:
        self._clock = clock
        self._max_buckets = max_buckets
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _refilled(self, key: str, rate: Rate, now: float) -> _Bucket:
        bucket = self._buckets.pop(key, None)  # re-inserted below: dict order = least recently used first
        if bucket is None:
            bucket = _Bucket(float(rate.capacity), now)
        else:
            bucket.tokens = min(float(rate.capacity), bucket.tokens + (now - bucket.stamp) * rate.per_second)
            bucket.stamp = now
        self._buckets[key] = bucket
        return bucket

    def wait_seconds(self, charges: Iterable[tuple[str, Rate]]) -> float:
        """Seconds until every named bucket holds a whole token (0 = a request would pass now); takes nothing."""
        with self._lock:
            now = self._clock()
            return max((self._wait(self._refilled(k, r, now), r) for k, r in charges if not r.unlimited), default=0.0)

    @staticmethod
    def _wait(bucket: _Bucket, rate: Rate) -> float:
        return 0.0 if bucket.tokens >= 1.0 else (1.0 - bucket.tokens) / rate.per_second

    def acquire(self, charges: Iterable[tuple[str, Rate]]) -> float:
        """Take one token from each bucket if all have one and return 0; otherwise take none and return the
        seconds until all would have one."""
        charges = [(k, r) for k, r in charges if not r.unlimited]
        with self._lock:
            now = self._clock()
            buckets = [(self._refilled(k, r, now), r) for k, r in charges]
            wait = max((self._wait(b, r) for b, r in buckets), default=0.0)
            if wait == 0.0:
                for bucket, _ in buckets:
                    bucket.tokens -= 1.0
            self._evict(now, dict(charges))
            return wait

    def charge(self, key: str, rate: Rate) -> None:
        """Take one token from ``key`` even if it has none left (a failed login counts after the fact)."""
        if rate.unlimited:
            return
        with self._lock:
            now = self._clock()
            bucket = self._refilled(key, rate, now)
            bucket.tokens = max(bucket.tokens - 1.0, -float(rate.capacity))  # never more than one period of debt

    def _evict(self, now: float, rates: dict[str, Rate]) -> None:
        if len(self._buckets) <= self._max_buckets:
            return
        # Oldest first; a bucket idle for a whole period is full again, so forgetting it changes nothing.
        for key in list(self._buckets)[: len(self._buckets) - self._max_buckets]:
            if key not in rates:
                del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


def require(limiter: RateLimiter, what: str, charges: Iterable[tuple[str, Rate]]) -> None:
    """Take a token from every bucket in ``charges`` or raise :class:`RateLimited` naming ``what``."""
    _refuse_while_waiting(what, limiter.acquire(charges))


def refuse_if_empty(limiter: RateLimiter, what: str, charges: Iterable[tuple[str, Rate]]) -> None:
    """Raise :class:`RateLimited` if any bucket in ``charges`` lacks a token; takes nothing."""
    _refuse_while_waiting(what, limiter.wait_seconds(charges))


def _refuse_while_waiting(what: str, wait: float) -> None:
    if wait > 0:
        raise RateLimited(f"too many {what}; try again in {max(1, math.ceil(wait))} s", wait)
