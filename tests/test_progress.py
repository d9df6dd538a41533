"""Progress: the counters the pipeline's threads bump, and where they show — a live
display on a terminal, a `progress` event at most every 10 s off one, serve's gauges."""

from __future__ import annotations

import io
import sys
import threading

import pytest
import structlog
from rich.console import Console
from structlog.testing import capture_logs

from cleaner.run.display import TerminalDisplay, progress_for
from cleaner.run.progress import PeriodicLog, Progress, Snapshot
from cleaner.serve.metrics import Metrics

ONE = {"targets": 1, "targets_listed": 1}


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self) -> None:
        self.updates: list[Snapshot] = []
        self.closed: list[Snapshot] = []

    def update(self, snapshot: Snapshot) -> None:
        self.updates.append(snapshot)

    def close(self, snapshot: Snapshot) -> None:
        self.closed.append(snapshot)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_counts_reach_every_sink_with_the_elapsed_time() -> None:
    clock, sink = FakeClock(), Recorder()
    progress = Progress([sink], clock=clock)
    progress.start(2, dry_run=True)
    clock.now += 3
    progress.target_listed(5)
    progress.repository_planned(200)
    progress.deleted(7)
    progress.repository_done()
    progress.close()
    last = sink.updates[-1]
    assert (last.targets, last.targets_listed, last.repositories) == (2, 1, 5)
    assert (last.planned, last.done, last.images_scanned, last.deletions) == (1, 1, 200, 7)
    assert last.elapsed == 3 and last.dry_run
    assert sink.closed == [last]


@pytest.mark.parametrize(
    ("snapshot", "eta"),
    [
        (Snapshot(targets=2, targets_listed=1, repositories=10, planned=5, elapsed=5), None),
        (Snapshot(**ONE, repositories=0, elapsed=5), None),
        (Snapshot(**ONE, repositories=10, elapsed=5), None),
        # 5 of 20 units (10 planned + 10 done) in 5 s: 15 left at 1 a second.
        (Snapshot(**ONE, repositories=10, planned=5, elapsed=5), 15.0),
        (
            Snapshot(**ONE, repositories=10, planned=10, done=5, elapsed=30),
            10.0,
        ),
        (
            Snapshot(**ONE, repositories=10, planned=10, done=10, elapsed=9),
            None,
        ),
    ],
)
def test_eta_only_when_it_can_be_estimated(snapshot: Snapshot, eta: float | None) -> None:
    assert snapshot.eta() == eta


def test_counts_from_many_threads_add_up() -> None:
    sink = Recorder()
    progress = Progress([sink])
    progress.start(1, dry_run=False)

    def work() -> None:
        for _ in range(500):
            progress.repository_planned(3)
            progress.deleted(2)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = progress.snapshot()
    assert (final.planned, final.images_scanned, final.deletions) == (4000, 12000, 8000)
    # The sink saw every change, in order: the counts never go back.
    planned = [s.planned for s in sink.updates]
    assert len(sink.updates) == 1 + 8000 and planned == sorted(planned)


def test_progress_event_at_most_every_10_seconds_with_an_injected_clock() -> None:
    clock = FakeClock()
    progress = Progress([PeriodicLog(clock=clock)], clock=clock)
    with capture_logs() as events:
        progress.start(1, dry_run=False)
        for step in (2.0, 5.0, 2.9, 0.1, 3.0, 6.0, 0.5, 12.0):
            clock.now += step
            progress.repository_planned(10)
    logged = [e for e in events if e["event"] == "progress"]
    # Updates at 2, 7, 9.9, 10, 13, 19, 19.5, 31.5 s: events at 10, 31.5 (19.5 < 10 + 10).
    assert [e["elapsed_seconds"] for e in logged] == [10.0, 31.5]
    assert all(e["log_level"] == "info" for e in logged)
    assert logged[0]["repositories_planned"] == 4 and logged[0]["images_scanned"] == 40
    assert set(logged[0]) >= {
        "repositories_listed",
        "repositories_done",
        "deletions",
        "eta_seconds",
    }


def test_a_short_run_logs_no_progress_event() -> None:
    clock = FakeClock()
    progress = Progress([PeriodicLog(clock=clock)], clock=clock)
    with capture_logs() as events:
        progress.start(1, dry_run=False)
        clock.now += 9
        progress.target_listed(3)
        progress.close()
    assert not [e for e in events if e["event"] == "progress"]


@pytest.mark.parametrize(
    ("level", "tty", "sink"),
    [
        ("info", False, PeriodicLog),
        ("debug", False, PeriodicLog),
        ("info", True, TerminalDisplay),
        ("debug", True, TerminalDisplay),
        ("warning", True, None),
        ("error", True, None),
        ("warning", False, None),
    ],
)
def test_the_display_only_on_a_terminal_and_quiet_from_warning_up(
    level: str, tty: bool, sink: type | None
) -> None:
    stream = Terminal() if tty else io.StringIO()
    progress = progress_for(level, stream)
    assert [type(s) for s in progress.sinks] == ([sink] if sink else [])


def test_the_display_draws_counts_on_stderr_and_log_lines_above_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    screen = Terminal()
    console = Console(file=screen, force_terminal=True, width=120)
    display = TerminalDisplay(console)
    snapshot = Snapshot(**ONE, repositories=50, planned=23, done=2)
    display.update(Snapshot(targets=1))
    # While the display runs, sys.stderr writes go above it (rich stands in for it).
    print('{"event": "repository_done"}', file=sys.stderr)
    display.update(replace_counts(snapshot, images_scanned=46000, deletions=1234, elapsed=4))
    display.close(snapshot)
    drawn = screen.getvalue()
    assert '{"event": "repository_done"}' in drawn
    assert "23/50 repositories" in drawn and "46,000 images scanned" in drawn
    assert "1,234 deleted" in drawn and "0:00:04, about" in drawn
    assert capsys.readouterr().out == ""  # stdout is the report's, untouched


def replace_counts(snapshot: Snapshot, **changes: float) -> Snapshot:
    from dataclasses import replace

    return replace(snapshot, **changes)


def test_serve_gauges_follow_the_run_and_return_to_zero() -> None:
    metrics = Metrics()
    progress = Progress([metrics.progress_sink()])
    progress.start(1, dry_run=False)
    progress.target_listed(4)
    progress.repository_planned(150)
    progress.deleted(9)
    text = metrics.render().decode()
    assert 'ecr_cleaner_run_progress_repositories{state="listed"} 4.0' in text
    assert 'ecr_cleaner_run_progress_repositories{state="planned"} 1.0' in text
    assert "ecr_cleaner_run_progress_images_scanned 150.0" in text
    assert "ecr_cleaner_run_progress_deletions 9.0" in text
    progress.close()
    text = metrics.render().decode()
    assert 'ecr_cleaner_run_progress_repositories{state="listed"} 0.0' in text
    assert "ecr_cleaner_run_progress_images_scanned 0.0" in text


@pytest.fixture(autouse=True)
def _reset_structlog() -> None:
    structlog.reset_defaults()
