"""A worker process of a run (limits.processes): plans the repositories the first
process hands it, one at a time, and executes them only once the first process has
checked limits.max_deletions over the whole run's plan.

It is a fresh interpreter (forking a process that runs threads is unsafe), started
as the run begins, so that its imports and AWS clients are made while the first
process lists the repositories. It makes its own clients from the
environment it inherited. The messages are cleaner/run/wire.py's.

Signals: it ignores SIGINT and SIGTERM (a Ctrl-C reaches the whole process group); the
first process handles them and passes the stop on. When the first process goes away
(a second signal makes it exit at once), the pipe closes and the worker exits at once.
"""

from __future__ import annotations

import contextvars
import os
import queue
import signal
import threading
import traceback
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

import structlog

from cleaner import logs
from cleaner.aws.clients import Clients
from cleaner.aws.ecr import ManifestCache
from cleaner.core.storage import deletion_counts
from cleaner.exitcodes import ExitCode
from cleaner.run import wire
from cleaner.run.finish import finish, makes_calls
from cleaner.run.progress import Progress
from cleaner.run.scan import Planned, Planner, Work
from cleaner.run.spawn import SIGNALS
from cleaner.run.stopping import StopRequest
from cleaner.tuning import tune_gc

# Log lines and deletion counts go to the first process together, at most this late (s).
FLUSH = 0.1


def serve(fd: int) -> None:
    """The worker process's entry point: `fd` is its end of the socket pair."""
    main(Connection(fd))


def main(conn: Connection) -> None:
    # The first process blocked these while it started this one (so that a Ctrl-C
    # during the start cannot kill it half-way): ignore them, then let them in.
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
    try:
        hello: wire.Hello = conn.recv()
    except (EOFError, OSError):
        return
    outbox = Outbox(conn)
    try:
        _run(conn, hello, outbox)
    except BaseException:
        try:
            outbox.send((wire.CRASHED, traceback.format_exc()))
        finally:
            os._exit(1)
    # Everything is sent (the first process reads what is still in the socket): no
    # interpreter teardown of a large heap for the first process to wait for.
    os._exit(0)


def _run(conn: Connection, hello: wire.Hello, outbox: Outbox) -> None:
    _log_through(outbox, hello.logging)
    tune_gc()  # as the CLI does
    structlog.contextvars.bind_contextvars(**hello.context)
    stop = StopRequest()
    inbox = Inbox(conn, stop)
    inbox.start()
    clients = Clients()
    for target in hello.config.targets:  # made now, while the first process lists
        for lane in ("", "delete", "storage"):
            clients.for_target("ecr", target, lane=lane)
    go: wire.Go = inbox.go.get()
    config = replace(hello.config, limits=go.limits)
    cache = ManifestCache()
    planner = Planner(config, clients, hello.now, cache, stop=stop, progress=Forwarded(outbox))
    for index in range(len(config.targets)):  # not thread-safe: before the threads
        planner.registry(index)
    planned: dict[int, Planned] = {}

    def plan_what_comes() -> None:
        while (item := inbox.next(outbox)) is not None:
            cache.keep(item.repository, item.manifests)
            policy = config.policy_for(item.repository.name)
            assert policy is not None  # the first process chose repositories a policy matches
            registry = planner.registry(item.target)
            work = Work(registry, item.repository, policy, item.usages, item.target)
            done = planned[item.position] = planner.plan(work)
            outbox.send((wire.PLANNED, item.position, deletion_counts([done.plan])))

    threads = config.limits.concurrency
    with ThreadPoolExecutor(threads, thread_name_prefix="cleaner") as pool:
        context = contextvars.copy_context
        loops = [pool.submit(context().run, plan_what_comes) for _ in range(threads)]
        for loop in loops:
            loop.result()
        limit_hit = inbox.decision.get()
        step = partial(
            _finish_one,
            inbox=inbox,
            outbox=outbox,
            cache=cache,
            options={"limit_hit": limit_hit, "dry_run": hello.dry_run, "stop": stop},
            progress=planner.progress,
        )
        futures = [
            pool.submit(contextvars.copy_context().run, step, position, item)
            for position, item in sorted(planned.items())
        ]
        for future in futures:
            future.result()
    outbox.send((wire.FINISHED,))
    outbox.close()


def _finish_one(
    position: int,
    item: Planned,
    *,
    inbox: Inbox,
    outbox: Outbox,
    cache: ManifestCache,
    options: Mapping[str, Any],
    progress: Progress,
) -> None:
    if makes_calls(item, limit_hit=options["limit_hit"]):
        inbox.go_ahead(outbox, position)  # a slot of limits.concurrency, in all processes
    result = finish(item, progress=progress, **options)
    manifests = dict(cache.known(result.repository))
    outbox.send((wire.RESULT, position, result, manifests))


class Outbox:
    """Everything the worker sends, over one pipe, in order. Log lines and deletion
    counts are gathered and go together at most FLUSH seconds later (one message for
    many events), and always before the next other message."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._lines: dict[str, list[str]] = {}
        self._deletions = 0
        self._closed = threading.Event()
        self._flusher = threading.Thread(target=self._flush_often, name="outbox", daemon=True)
        self._flusher.start()

    def send(self, message: tuple[Any, ...]) -> None:
        with self._lock:
            self._flush()
            self._conn.send(message)

    def log(self, stream: str, text: str) -> None:
        with self._lock:
            self._lines.setdefault(stream, []).append(text)

    def count(self, amounts: Mapping[str, int]) -> None:
        with self._lock:
            if set(amounts) == {"deletions"}:
                self._deletions += amounts["deletions"]
                return
            self._flush()
            self._conn.send((wire.PROGRESS, dict(amounts)))

    def close(self) -> None:
        self._closed.set()
        self._flusher.join()
        with self._lock:
            self._flush()

    def _flush_often(self) -> None:
        while not self._closed.wait(FLUSH):
            with self._lock:
                self._flush()

    def _flush(self) -> None:
        for stream, lines in self._lines.items():
            self._conn.send((wire.LOG, stream, "".join(lines)))
        self._lines.clear()
        if self._deletions:
            self._conn.send((wire.PROGRESS, {"deletions": self._deletions}))
            self._deletions = 0


class _Stream:
    """A file for structlog: each event's line goes to the first process, which writes it."""

    def __init__(self, outbox: Outbox, name: str) -> None:
        self._outbox, self.name = outbox, name

    def write(self, text: str) -> int:
        self._outbox.log(self.name, text)
        return len(text)

    def flush(self) -> None:
        return None


def _log_through(outbox: Outbox, settings: tuple[str, str] | None) -> None:
    """Render events as the first process does, and hand the lines to it: on a
    terminal its progress display must print them, and lines never interleave."""
    if settings is None:  # the first process never configured logging: structlog's default
        structlog.configure(logger_factory=structlog.WriteLoggerFactory(_Stream(outbox, "stdout")))  # type: ignore[arg-type]
    else:
        logs.configure(*settings, stream=_Stream(outbox, "stderr"))


class Forwarded(Progress):
    """The run's progress counters, kept by the first process: each change goes there."""

    def __init__(self, outbox: Outbox) -> None:
        super().__init__()
        self._outbox = outbox

    def _add(self, **amounts: int) -> None:
        self._outbox.count(amounts)


class Inbox(threading.Thread):
    """Reads what the first process sends: the share of the limits, the repositories,
    the decision, a stop. If the first process is gone, the worker exits at once."""

    def __init__(self, conn: Connection, stop: StopRequest) -> None:
        super().__init__(name="inbox", daemon=True)
        self._conn = conn
        self._stop = stop
        self.go: queue.Queue[wire.Go] = queue.Queue()
        self.items: queue.Queue[wire.Item | None] = queue.Queue()
        self.decision: queue.Queue[bool] = queue.Queue()
        self._lock = threading.Lock()
        self._go_ahead: dict[int, threading.Event] = {}

    def next(self, outbox: Outbox) -> wire.Item | None:
        """One more repository to plan, or None when every one has been handed out.
        Any thread may ask: each request gets one answer, and answers are alike."""
        outbox.send((wire.NEXT,))
        return self.items.get()

    def go_ahead(self, outbox: Outbox, position: int) -> None:
        """Ask to execute the repository at `position`, and wait until told to."""
        told = threading.Event()
        with self._lock:
            self._go_ahead[position] = told
        outbox.send((wire.EXECUTE, position))
        told.wait()

    def run(self) -> None:
        while True:
            try:
                message = self._conn.recv()
            except (EOFError, OSError):
                # The first process is gone: its second signal, or it was killed. No
                # one is left to report to, and what was asked for was to stop at once.
                os._exit(1)
            if isinstance(message, wire.Go):
                self.go.put(message)
            elif isinstance(message, wire.Item):
                self.items.put(message)
            elif message[0] == wire.NO_MORE:
                self.items.put(None)
            elif message[0] == wire.STOP:
                code = message[2]
                self._stop.request(message[1], None if code is None else ExitCode(code))
            elif message[0] == wire.DECIDED:
                self.decision.put(bool(message[1]))
            elif message[0] == wire.GO_AHEAD:
                with self._lock:
                    self._go_ahead.pop(message[1]).set()
