"""Fault injection and call accounting for the sandbox's ECR operations.

Faults are set per operation name (`DescribeImages`, ...) or for every ECR operation
with "*". Clock and sleep are injectable so tests never depend on real time.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from cleaner.sandbox.store import Store

ANY_OPERATION = "*"
RegistryHook = Callable[[Store], None]


@dataclass(frozen=True, slots=True)
class InjectedError:
    status: int
    code: str
    message: str


@dataclass
class _Bucket:
    """Token bucket: `rate` calls a second, up to `burst` at once."""

    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class _Failures:
    remaining: int = 0
    every: int = 0
    status: int = 500
    seen: int = 0


@dataclass
class Faults:
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    # Calls each operation's handler answered (ECR errors included, injected faults not).
    calls: Counter[str] = field(default_factory=Counter)
    # Calls answered with an injected throttle or server error instead.
    injected: Counter[str] = field(default_factory=Counter)
    # When set, the clock time of every handled call, per operation (for rate benchmarks).
    record_times: bool = False
    times: dict[str, list[float]] = field(default_factory=dict)
    # Most calls of each operation in flight at once (latency included): what a client's
    # concurrency really was.
    peak: Counter[str] = field(default_factory=Counter)
    _in_flight: Counter[str] = field(default_factory=Counter)
    _latency: dict[str, float] = field(default_factory=dict)
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _failures: dict[str, _Failures] = field(default_factory=dict)
    _hooks: dict[tuple[str, int], list[RegistryHook]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.injected.clear()
            self.times.clear()
            self.peak.clear()
            self._in_flight.clear()
            self._latency.clear()
            self._buckets.clear()
            self._failures.clear()
            self._hooks.clear()

    def add_latency(self, operation: str, seconds: float) -> None:
        self._latency[operation] = seconds

    def throttle(self, operation: str, rate: float, burst: float = 1.0) -> None:
        """Answer `ThrottlingException` to calls beyond `rate` a second."""
        self._buckets[operation] = _Bucket(rate, burst, burst, self.clock())

    def fail_next(self, operation: str, count: int = 1, status: int = 500) -> None:
        """Answer the next `count` calls with a transient HTTP `status` error."""
        self._failures[operation] = _Failures(remaining=count, status=status)

    def fail_every(self, operation: str, every: int, status: int = 503) -> None:
        """Answer every `every`-th call with a transient HTTP `status` error."""
        self._failures[operation] = _Failures(every=every, status=status)

    def after_call(self, operation: str, number: int, hook: RegistryHook) -> None:
        """Run `hook(store)` once the `number`-th call of `operation` has been handled,
        before its response is sent: the registry changes between two client calls."""
        self._hooks.setdefault((operation, number), []).append(hook)

    def before(self, operation: str) -> InjectedError | None:
        """Apply latency; return the injected error this call gets, if any. Every call
        that went through here goes through `after` (or `done`) too."""
        with self._lock:
            self._in_flight[operation] += 1
            self.peak[operation] = max(self.peak[operation], self._in_flight[operation])
        delay = self._latency.get(operation, self._latency.get(ANY_OPERATION, 0.0))
        if delay > 0:
            self.sleep(delay)
        with self._lock:
            error = self._throttled(operation) or self._failed(operation)
            if error is not None:
                self.injected[operation] += 1
            return error

    def done(self, operation: str) -> None:
        """A call answered with an injected error instead of its handler."""
        with self._lock:
            self._in_flight[operation] -= 1

    def after(self, operation: str, store: Store) -> None:
        with self._lock:
            self._in_flight[operation] -= 1
            self.calls[operation] += 1
            if self.record_times:
                self.times.setdefault(operation, []).append(self.clock())
            hooks = self._hooks.pop((operation, self.calls[operation]), [])
        for hook in hooks:
            with store.lock:
                hook(store)

    def _throttled(self, operation: str) -> InjectedError | None:
        bucket = self._buckets.get(operation) or self._buckets.get(ANY_OPERATION)
        if bucket is None or bucket.take(self.clock()):
            return None
        return InjectedError(400, "ThrottlingException", "Rate exceeded")

    def _failed(self, operation: str) -> InjectedError | None:
        failures = self._failures.get(operation) or self._failures.get(ANY_OPERATION)
        if failures is None:
            return None
        failures.seen += 1
        hit = failures.remaining > 0 or (failures.every and failures.seen % failures.every == 0)
        if failures.remaining > 0:
            failures.remaining -= 1
        if not hit:
            return None
        return InjectedError(failures.status, "ServerException", "Injected transient failure")
