"""A request-rate cap shared by the threads working on one registry."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pacing:
    """The clock and sleep of a run's request-rate caps; tests inject both."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


class RateLimiter:
    """A token bucket that holds one token: calls start at least 1/rate seconds apart,
    however many threads make them, so a registry never sees a burst above the rate.

    Each caller reserves the next free start time under the lock and sleeps outside
    it, so waiting threads line up in order instead of all waking at once. `clock`
    and `sleep` are injectable so that tests never wait.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be > 0 (got {rate})")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until this call may go."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)


class Unlimited:
    """No cap: what a registry gets when limits.requests_per_second is not set."""

    def acquire(self) -> None:
        return None
