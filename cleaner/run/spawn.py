"""Starting and ending a run's worker processes (limits.processes).

A worker is a fresh interpreter: fork and exec, as multiprocessing's spawn method
does, never a bare fork (forking a process that runs threads is unsafe), and without
importing the caller's main script again as that method would (a script that calls
the runner at its top level would run again in every worker). It gets this process's
sys.path and one end of a socket pair, over which multiprocessing's Connection carries
the messages of cleaner/run/wire.py.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection

import structlog

log = structlog.get_logger("cleaner.run.pipeline")

# What the first process handles and passes on; a worker ignores them (worker.main).
SIGNALS = {signal.SIGINT, signal.SIGTERM}
# A worker's command line: `python -c WORKER_MAIN <socket fd> <sys.path...>`.
WORKER_MAIN = (
    "import sys; sys.path[:] = sys.argv[2:]; "
    "from cleaner.run.worker import serve; serve(int(sys.argv[1]))"
)

Process = subprocess.Popen[bytes]


def start() -> tuple[Process, Connection] | None:
    """A worker process and this process's end of its connection; None if it cannot
    be started (no interpreter to start, as in an embedded Python; no memory): the run
    goes on with fewer processes."""
    here, there = socket.socketpair()
    argv = [sys.executable, "-c", WORKER_MAIN, str(there.fileno()), *sys.path]
    try:
        # Blocked while it starts, so that a Ctrl-C meanwhile cannot kill it half-way:
        # it inherits the mask, ignores them, then lets them in (worker.main).
        with _signals_blocked():
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, pass_fds=[there.fileno()])
    except OSError as exc:
        log.warning("worker_not_started", executable=sys.executable, error=str(exc))
        here.close()
        return None
    finally:
        there.close()
    return process, Connection(here.detach())


def kill(process: Process) -> None:
    with contextlib.suppress(OSError):  # already gone
        process.kill()


def ended_how(process: Process) -> str:
    """Why a worker's connection closed, for the report of its repositories."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)
    code = process.returncode
    if code is not None and code < 0:
        how = f"killed by {signal.Signals(-code).name}"
    else:
        how = f"exit code {code}"
    return f"its worker process ended unexpectedly ({how})"


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
