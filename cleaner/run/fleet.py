"""The first process's side of a run's worker processes (limits.processes): starting
them, one reader thread each for what they send, passing a stop on, ending them.

What a worker says is recorded on its `Worker` under the fleet's condition, which
cleaner/run/fanout.py waits on; the counts it makes go straight to the run's Progress
and its log lines to this process's stderr (so that a terminal's progress display
prints them, and lines never interleave).
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

import structlog

from cleaner import logs
from cleaner.aws.ecr import ManifestCache
from cleaner.config.model import Limits
from cleaner.core.model import RepositoryPlan
from cleaner.run import spawn, wire
from cleaner.run.progress import Progress
from cleaner.run.slots import Slots
from cleaner.run.stopping import StopRequest

log = structlog.get_logger("cleaner.run.pipeline")

# A stop request reaches the workers at most this late (seconds).
STOP_POLL = 0.05
# How long a worker that was told to stop may take to report, before it is killed.
GRACE = 30.0


class Worker:
    """One worker process and what it has said so far (read under the fleet's lock)."""

    def __init__(self, process: spawn.Process, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self._send_lock = threading.Lock()  # the reader, the main thread, the stop forwarder
        self.positions: list[int] = []  # handed to it, in the run's list of work
        self.planned: dict[int, tuple[int, int, int]] = {}  # its deletion counts
        self.executing: set[int] = set()  # told to go ahead: may have changed the registry
        self.results: dict[int, RepositoryPlan] = {}
        self.counted: Counter[str] = Counter()  # progress it reported: planned, done
        self.finished = False
        self.failure: str | None = None  # why it ended without finishing
        self.dismissed = False  # ended by this process before it could change anything
        self.decided = False  # told to execute what it planned (or not)

    @property
    def done_planning(self) -> bool:
        """Nothing it was handed is still being planned (or it has ended)."""
        return self.over or all(p in self.planned for p in self.positions)

    @property
    def over(self) -> bool:
        return self.finished or self.failure is not None or self.dismissed

    def send(self, message: object) -> None:
        with self._send_lock, contextlib.suppress(OSError):  # gone: its reader says so
            self.conn.send(message)


class Fleet:
    """`count` worker processes, started at once: they import and make their clients
    while this process lists the repositories. Their requests for work and for leave to
    execute wait for the run's `slots` (given to `go`)."""

    def __init__(
        self,
        hello: wire.Hello,
        count: int,
        *,
        progress: Progress,
        cache: ManifestCache,
        stop: StopRequest,
    ) -> None:
        self.hello = hello
        self.progress = progress
        self.cache = cache
        self.stop = stop
        self.lock = threading.Condition()
        self.slots: Slots | None = None
        self.item: Callable[[int], wire.Item] | None = None
        self._closed = threading.Event()
        self.workers = [w for w in (self._start() for _ in range(count)) if w is not None]
        self._threads = [
            threading.Thread(target=self._read, args=(w,), name="worker-reader", daemon=True)
            for w in self.workers
        ]
        # Not joined: it notices the end within STOP_POLL and exits.
        forwarder = threading.Thread(target=self._forward_stop, name="stop-forwarder", daemon=True)
        for thread in [*self._threads, forwarder]:
            thread.start()

    @staticmethod
    def _start() -> Worker | None:
        started = spawn.start()
        return None if started is None else Worker(*started)

    def keep(self, count: int) -> None:
        """Only the first `count` workers are needed: end the others."""
        for worker in self.workers[count:]:
            self.dismiss(worker)
        self.workers = self.workers[:count]

    def go(self, limits: Limits, slots: Slots, item: Callable[[int], wire.Item]) -> None:
        """Let the workers ask for work: `item` makes what a repository's position
        hands them."""
        self.slots, self.item = slots, item
        for worker in self.workers:
            worker.send(wire.Go(limits))

    def dismiss_idle(self) -> None:
        """Every repository has been handed out: a worker handed none (still starting,
        most likely) never will be, and its start would only take CPU from the rest."""
        with self.lock:
            for worker in self.workers:
                if not worker.positions and not worker.over:
                    self.dismiss(worker)

    def decide(self, limit_hit: bool) -> None:
        """Tell every worker to execute what it planned (or not): one that was handed
        nothing never will be, and ends."""
        with self.lock:
            for worker in self.workers:
                if not worker.positions:
                    if not worker.dismissed:
                        self.dismiss(worker)
                elif not worker.over:
                    worker.decided = True
                    worker.send((wire.DECIDED, limit_hit))

    def dismiss(self, worker: Worker) -> None:
        """End a worker that cannot have changed anything: handed nothing, or not yet
        told to execute what it planned."""
        with self.lock:
            assert not worker.decided
            worker.dismissed = True
        spawn.kill(worker.process)

    def wait(self, ready: Callable[[], bool]) -> None:
        with self.lock:
            while not ready():
                self.lock.wait(0.5)

    def close(self) -> None:
        """End every worker. If this process failed before the end, one that may be
        deleting is asked to stop before its next batch and given GRACE seconds."""
        for worker in self.workers:
            if worker.over:
                continue
            if worker.decided:
                worker.send((wire.STOP, "shutdown", None))
            else:
                self.dismiss(worker)
        self._closed.set()
        for worker in self.workers:
            try:
                worker.process.wait(0 if worker.dismissed else GRACE)
            except subprocess.TimeoutExpired:
                spawn.kill(worker.process)
                worker.process.wait()
            worker.conn.close()
        for thread in self._threads:
            thread.join()

    def _read(self, worker: Worker) -> None:
        worker.send(self.hello)  # not on the main thread: a full pipe would block it
        while True:
            try:
                message: Any = worker.conn.recv()
            except (EOFError, OSError):
                self._ended(worker, spawn.ended_how(worker.process))
                return
            if not self._handle(worker, message):
                return

    def _handle(self, worker: Worker, message: Any) -> bool:
        """Act on one message; False when it was the worker's last."""
        kind = message[0]
        if kind == wire.NEXT:
            self._granting.ask_next(
                partial(self._hand, worker),
                taken=worker.positions.append,
                alive=lambda: not worker.over,
            )
        elif kind == wire.EXECUTE:
            self._granting.ask_slot(
                lambda position: worker.send((wire.GO_AHEAD, position)),
                message[1],
                taken=worker.executing.add,
                alive=lambda: not worker.over,
            )
        elif kind == wire.PROGRESS:
            self.progress.merge(message[1])
            with self.lock:
                worker.counted.update(message[1])
        elif kind == wire.LOG and message[1] == "stdout":
            sys.stdout.write(message[2])  # structlog's default: this process never set logs up
        elif kind == wire.LOG:
            logs.write_rendered(message[2])
        elif kind == wire.CRASHED:
            last = str(message[1]).strip().splitlines()[-1]
            self._ended(worker, f"its worker process failed: {last}", str(message[1]))
            return False
        else:
            if kind == wire.RESULT:
                self.cache.keep(message[2].repository, message[3])
            freed = 0
            with self.lock:
                if kind == wire.PLANNED:
                    worker.planned[message[1]] = message[2]
                    freed = 1
                elif kind == wire.RESULT:
                    worker.results[message[1]] = message[2]
                    freed = int(message[1] in worker.executing)
                elif kind == wire.FINISHED:
                    worker.finished = True
                self.lock.notify_all()
            if self.slots is not None:
                self.slots.release(freed)
            return bool(kind != wire.FINISHED)
        return True

    @property
    def _granting(self) -> Slots:
        assert self.slots is not None  # a worker asks only once told to go
        return self.slots

    def _hand(self, worker: Worker, position: int | None) -> None:
        assert self.item is not None
        worker.send((wire.NO_MORE,) if position is None else self.item(position))

    def _ended(self, worker: Worker, why: str, details: str | None = None) -> None:
        held = 0
        with self.lock:
            if not (worker.dismissed or worker.finished or self._closed.is_set()):
                worker.failure = why
                log.error("worker_failed", pid=worker.process.pid, error=why, details=details)
                # The slots it held: what it was planning, and executing.
                held = sum(1 for p in worker.positions if p not in worker.planned)
                held += sum(1 for p in worker.executing if p not in worker.results)
            self.lock.notify_all()
        if self.slots is not None:
            self.slots.release(held)

    def _forward_stop(self) -> None:
        while not self._closed.is_set():
            if self.stop.wait(STOP_POLL):
                for worker in self.workers:
                    worker.send((wire.STOP, self.stop.cause, self.stop.exit_code))
                return
