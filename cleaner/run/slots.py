"""limits.concurrency over every process of a run: a repository is planned, or
executed, only while it holds one of `count` slots, whichever process works on it.

Every process runs `count` threads, so whichever is ready can use every free slot: a
worker still starting leaves its share to the others instead of idle. Requests are
answered in the order they came (a process asking again after each repository takes
turns with the others). A request to plan takes the next repository with its slot;
when none is left it is answered at once, without one.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Grant = Callable[[int | None], None]


def _nothing(_: int) -> None:
    return None


def _always() -> bool:
    return True


@dataclass(frozen=True)
class _Request:
    grant: Grant  # called with the repository's position (None: nothing left to plan)
    position: int | None  # None: the next one to plan; else: execute this one
    taken: Callable[[int], None]  # bookkeeping, under the lock, when granted
    alive: Callable[[], bool]  # False: the asker is gone; its request is dropped


class Slots:
    def __init__(self, count: int, positions: int, lock: threading.Condition) -> None:
        self.free = count
        self.lock = lock
        self._queue = deque(range(positions))  # not handed out to plan yet
        self._waiting: deque[_Request] = deque()

    def ask_next(
        self,
        grant: Grant,
        taken: Callable[[int], None] = _nothing,
        alive: Callable[[], bool] = _always,
    ) -> None:
        """The next repository to plan, with a slot: `grant` is called once, maybe
        later and from whichever thread frees a slot, with its position (None: nothing
        is left); `taken` first, under the lock, unless `alive()` says the asker is
        gone by then (checked under the lock too): then the request is dropped."""
        self._ask(_Request(grant, None, taken, alive))

    def ask_slot(
        self,
        grant: Grant,
        position: int,
        taken: Callable[[int], None] = _nothing,
        alive: Callable[[], bool] = _always,
    ) -> None:
        """A slot to execute the repository at `position`: `grant(position)`, the same way."""
        self._ask(_Request(grant, position, taken, alive))

    def next(self) -> int | None:
        """ask_next, waiting on this thread."""
        return self._wait(lambda grant: self.ask_next(grant))

    def hold(self) -> None:
        """A slot to execute one of this process's repositories, waiting on this thread."""
        self._wait(lambda grant: self.ask_slot(grant, -1))

    def _ask(self, request: _Request) -> None:
        with self.lock:
            self._waiting.append(request)
            ready = self._grants()
        _call(ready)

    @staticmethod
    def _wait(ask: Callable[[Grant], None]) -> int | None:
        granted: list[int | None] = []
        done = threading.Event()

        def grant(value: int | None) -> None:
            granted.append(value)
            done.set()

        ask(grant)
        done.wait()
        return granted[0]

    def release(self, count: int = 1) -> None:
        if count == 0:
            return
        with self.lock:
            self.free += count
            ready = self._grants()
        _call(ready)

    @property
    def all_handed_out(self) -> bool:
        with self.lock:
            return not self._queue

    def _grants(self) -> list[tuple[Grant, int | None]]:
        ready: list[tuple[Grant, int | None]] = []
        for request in [r for r in self._waiting if not r.alive()]:
            self._waiting.remove(request)
        while self._waiting:
            if not self._queue:  # nothing left to plan: every such request hears so now
                for request in [r for r in self._waiting if r.position is None]:
                    self._waiting.remove(request)
                    ready.append((request.grant, None))
            if not self._waiting or self.free == 0:
                break
            request = self._waiting.popleft()
            self.free -= 1
            position = self._queue.popleft() if request.position is None else request.position
            request.taken(position)
            ready.append((request.grant, position))
        self.lock.notify_all()
        return ready


def _call(ready: list[tuple[Grant, int | None]]) -> None:
    for grant, value in ready:  # outside the lock: a grant may send to a worker
        grant(value)
