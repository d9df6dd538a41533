"""A request to stop a run early: set from a signal handler, read between batches.

Workers ask `requested()` before each batch (never between a batch's re-describe and
its delete), so whatever was re-described is deleted or not as a whole, and what was
not attempted is reported as such with `reason`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

from cleaner.core.model import SkipKind, SkipReason, stopped_by
from cleaner.exitcodes import ExitCode


class StopRequest:
    def __init__(self) -> None:
        self._event = threading.Event()
        self.cause: str | None = None  # "SIGTERM", "SIGINT", or another word for why
        self.exit_code: ExitCode | None = None

    def request(self, cause: str = "shutdown", exit_code: ExitCode | None = None) -> None:
        """Safe from a signal handler: records the first cause and sets a flag."""
        if self.cause is None:
            self.cause, self.exit_code = cause, exit_code
        self._event.set()

    def requested(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)

    @property
    def reason(self) -> str:
        """What ended the run early, in the report's words ("stopped by SIGTERM")."""
        return stopped_by(self.cause or "shutdown")

    @property
    def skip_reason(self) -> SkipReason:
        """Why an action this stop kept from being attempted was skipped."""
        return SkipReason(SkipKind.STOPPED, self.cause or "shutdown")


_SIGNALS = {signal.SIGINT: ExitCode.SIGINT, signal.SIGTERM: ExitCode.SIGTERM}


@contextlib.contextmanager
def stop_on_signals(stop: StopRequest) -> Iterator[StopRequest]:
    """The first SIGINT/SIGTERM asks `stop` to stop; a second one exits at once.

    Handlers are restored afterwards (a command may run inside another program, such as
    a test runner); outside the main thread signals cannot be caught, so nothing is
    installed."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, _frame: object) -> None:
        sig = signal.Signals(signum)
        if stop.requested():
            # The operator insists: no report, no cleanup, exactly what they asked for.
            _say(f"ecr-cleaner: second {sig.name}: exiting at once\n")
            os._exit(_SIGNALS[sig])
        _say(f"ecr-cleaner: {sig.name}: stopping before the next batch (again: exit at once)\n")
        stop.request(sig.name, _SIGNALS[sig])

    previous = {s: signal.getsignal(s) for s in _SIGNALS}
    for sig in _SIGNALS:
        signal.signal(sig, handle)
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _say(text: str) -> None:
    # os.write, not print: the interrupted code may hold sys.stderr's buffer lock, and
    # a print from the handler would then fail with a reentrant call.
    os.write(2, text.encode())
