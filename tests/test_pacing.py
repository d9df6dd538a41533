"""The request-rate cap: calls start 1/rate apart, across threads, on an injected clock."""

from __future__ import annotations

import threading
from itertools import pairwise

import pytest

from cleaner.aws.pacing import RateLimiter


class FakeTime:
    """A clock that only moves when someone sleeps (one thread at a time)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("rate", "calls", "expected_sleeps"),
    [
        (5, 1, []),
        (5, 4, [0.2, 0.2, 0.2]),
        (0.5, 3, [2.0, 2.0]),
    ],
)
def test_calls_in_a_row_are_spaced_by_the_interval(
    rate: float, calls: int, expected_sleeps: list[float]
) -> None:
    time = FakeTime()
    limiter = RateLimiter(rate, clock=time.clock, sleep=time.sleep)
    starts = []
    for _ in range(calls):
        limiter.acquire()
        starts.append(time.now)
    assert time.sleeps == pytest.approx(expected_sleeps)
    assert [b - a for a, b in pairwise(starts)] == pytest.approx([1 / rate] * (calls - 1))


def test_time_that_passed_between_calls_counts() -> None:
    time = FakeTime()
    limiter = RateLimiter(2, clock=time.clock, sleep=time.sleep)
    limiter.acquire()
    time.now += 0.3  # work took 0.3 s: only 0.2 s left to wait
    limiter.acquire()
    time.now += 5  # idle for long: no credit saved up, the next call just goes
    limiter.acquire()
    limiter.acquire()
    assert time.sleeps == pytest.approx([0.2, 0.5])


def test_threads_sharing_a_limiter_line_up_one_interval_apart() -> None:
    # A frozen clock: each thread sleeps until its reserved slot, so the sleeps are
    # exactly the slots 0, 1, 2, ... intervals from now, whatever the thread order.
    sleeps: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            sleeps.append(seconds)

    limiter = RateLimiter(10, clock=lambda: 0.0, sleep=sleep)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sleeps) == pytest.approx([0.1 * n for n in range(1, 12)])


@pytest.mark.parametrize("rate", [0, -1.0])
def test_a_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="rate must be > 0"):
        RateLimiter(rate)
