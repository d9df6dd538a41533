"""How far a run has got: counters the pipeline's threads bump, and the sinks that
show them (a terminal display, a periodic log event, serve's gauges).

The pipeline calls a handful of hooks (a target listed, a repository planned, a
deletion done, a repository done); each takes the lock, updates the counts and hands
a consistent Snapshot to every sink, so a sink never sees half an update.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import structlog

log = structlog.get_logger("cleaner.run.progress")

# Off a terminal, a `progress` event at most this often (seconds).
LOG_INTERVAL = 10.0


@dataclass(frozen=True)
class Snapshot:
    targets: int = 0
    targets_listed: int = 0
    repositories: int = 0  # listed so far: the run's total once every target is listed
    planned: int = 0
    done: int = 0
    images_scanned: int = 0
    deletions: int = 0  # images deleted plus tags removed (planned ones, in a dry run)
    elapsed: float = 0.0  # seconds since the run started
    dry_run: bool = False

    @property
    def listing_done(self) -> bool:
        return self.targets_listed >= self.targets

    def eta(self) -> float | None:
        """Seconds left, once it can be estimated: every target listed and some of the
        work (planning, then executing, each repository) finished. The rate so far is
        assumed for the rest: rough, but it moves the right way."""
        if not self.listing_done or self.repositories == 0:
            return None
        work = 2 * self.repositories
        finished = self.planned + self.done
        if finished == 0 or finished >= work:
            return None
        return self.elapsed * (work - finished) / finished

    def fields(self) -> dict[str, object]:
        """The counts as log fields."""
        eta = self.eta()
        return {
            "targets_listed": self.targets_listed,
            "targets": self.targets,
            "repositories_listed": self.repositories,
            "repositories_planned": self.planned,
            "repositories_done": self.done,
            "images_scanned": self.images_scanned,
            "deletions": self.deletions,
            "dry_run": self.dry_run,
            "elapsed_seconds": round(self.elapsed, 1),
            "eta_seconds": None if eta is None else round(eta, 1),
        }


class Sink(Protocol):
    def update(self, snapshot: Snapshot) -> None: ...

    def close(self, snapshot: Snapshot) -> None: ...


class Progress:
    """Thread-safe run counters; `sinks` see every change (under the lock, in order)."""

    def __init__(
        self, sinks: Sequence[Sink] = (), clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.sinks = tuple(sinks)
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._counts = Snapshot()

    def snapshot(self) -> Snapshot:
        with self._lock:
            return self._now(self._counts)

    def start(self, targets: int, *, dry_run: bool) -> None:
        with self._lock:
            self._started = self._clock()
            self._set(Snapshot(targets=targets, dry_run=dry_run))

    def target_listed(self, repositories: int) -> None:
        """A target's repositories were listed: `repositories` entries of the report."""
        self._add(targets_listed=1, repositories=repositories)

    def repository_planned(self, images: int) -> None:
        self._add(planned=1, images_scanned=images)

    def deleted(self, count: int) -> None:
        """`count` images deleted or tags removed (planned, in a dry run)."""
        self._add(deletions=count)

    def repository_done(self) -> None:
        self._add(done=1)

    def merge(self, amounts: Mapping[str, int]) -> None:
        """Counts another process of the run made, by Snapshot field (`planned`,
        `images_scanned`, `deletions`, `done`): the worker processes' (limits.processes)."""
        self._add(**amounts)

    def close(self) -> None:
        with self._lock:
            snapshot = self._now(self._counts)
            for sink in self.sinks:
                sink.close(snapshot)

    def _add(self, **amounts: int) -> None:
        with self._lock:
            counts = self._counts
            changed = {name: getattr(counts, name) + n for name, n in amounts.items()}
            self._set(replace(counts, **changed))

    def _set(self, counts: Snapshot) -> None:
        self._counts = counts
        snapshot = self._now(counts)
        for sink in self.sinks:
            sink.update(snapshot)

    def _now(self, counts: Snapshot) -> Snapshot:
        return replace(counts, elapsed=self._clock() - self._started)


class PeriodicLog:
    """Off a terminal: a `progress` event at most every `interval` seconds, the first
    one `interval` after the run started (a short run logs none)."""

    def __init__(
        self, interval: float = LOG_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._last: float | None = None

    def update(self, snapshot: Snapshot) -> None:
        now = self._clock()
        if self._last is None:
            self._last = now
        elif now - self._last >= self.interval:
            self._last = now
            log.info("progress", **snapshot.fields())

    def close(self, snapshot: Snapshot) -> None:
        self._last = None
