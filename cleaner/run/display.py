"""Where a run's progress shows: a live display on a terminal, `progress` log events
off one, nothing at `--log-level warning` and above.

The display is rich's: it redraws itself in place on stderr and prints the log lines
written meanwhile above it (it stands in for sys.stderr while it runs, which the
logger looks up at every write), and it never touches stdout, where the report goes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn

from cleaner.run.progress import PeriodicLog, Sink, Snapshot
from cleaner.run.progress import Progress as RunProgress

QUIET_LEVELS = ("warning", "error", "critical")


def progress_for(
    log_level: str,
    stream: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RunProgress:
    """The run's progress counter with the sink that fits where stderr goes."""
    stream = stream or sys.stderr
    sinks: list[Sink] = []
    if log_level.lower() in QUIET_LEVELS:
        pass
    elif stream.isatty():
        sinks.append(TerminalDisplay(Console(file=stream) if stream is not sys.stderr else None))
    else:
        sinks.append(PeriodicLog(clock=clock))
    return RunProgress(sinks, clock=clock)


def _count(n: int) -> str:
    return f"{n:,}"


def _clock(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))


class TerminalDisplay:
    """Two rows, planning and executing, with the counts and the time:

    ⠋ planning ━━━━━━━━━━━━━━━━━━━━ 23/50 repositories · 46,000 images scanned
      deleting ━━━━━━━━━━━━━━━━━━━━ 0/50 repositories · 0 deleted · 0:00:04, about 0:00:09 left
    """

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._bars = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<10}"),
            BarColumn(bar_width=30),
            TextColumn("{task.fields[counts]}"),
            console=self.console,
            transient=True,  # the report (or the summary) says it all once the run is done
            redirect_stdout=False,  # stdout is the report's
            redirect_stderr=True,  # log lines go above the display
            refresh_per_second=4,
        )
        self._tasks: tuple[TaskID, TaskID] | None = None

    def update(self, snapshot: Snapshot) -> None:
        if self._tasks is None:
            self._bars.start()
            self._tasks = (
                self._bars.add_task("planning", total=None, counts=""),
                self._bars.add_task("", total=None, counts=""),
            )
        planning, executing = self._tasks
        total = snapshot.repositories if snapshot.listing_done else None
        of = f"{_count(snapshot.repositories)}{'' if snapshot.listing_done else '+'}"
        listing = (
            ""
            if snapshot.listing_done
            else f" · listing targets {snapshot.targets_listed}/{snapshot.targets}"
        )
        self._bars.update(
            planning,
            total=total,
            completed=snapshot.planned,
            counts=f"{_count(snapshot.planned)}/{of} repositories · "
            f"{_count(snapshot.images_scanned)} images scanned{listing}",
        )
        eta = snapshot.eta()
        timing = _clock(snapshot.elapsed) + ("" if eta is None else f", about {_clock(eta)} left")
        verb = "to delete" if snapshot.dry_run else "deleted"
        self._bars.update(
            executing,
            description="checking" if snapshot.dry_run else "deleting",
            total=total,
            completed=snapshot.done,
            counts=f"{_count(snapshot.done)}/{of} repositories · "
            f"{_count(snapshot.deletions)} {verb} · {timing}",
        )

    def close(self, snapshot: Snapshot) -> None:
        if self._tasks is not None:
            self._bars.stop()
            self._tasks = None
