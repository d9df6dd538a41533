"""limits.processes and what a run shows while it goes: the progress counts (display,
`progress` events, serve's gauges) and the log events come from every process as from
one; --shard and serve split their runs too."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import structlog
from processes_support import TakingPart, registry_state, report_json, taking_part
from test_processes import NOW, Scenario

from cleaner import logs
from cleaner.aws.clients import Clients
from cleaner.config.load import load_config_text
from cleaner.core.model import Shard
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.run.progress import Progress, Snapshot
from cleaner.run.stopping import StopRequest
from cleaner.sandbox import Sandbox
from cleaner.serve.recorder import RunRecorder
from cleaner.serve.service import ServeOptions

__all__ = ["taking_part"]  # a fixture


class Recorder:
    def __init__(self) -> None:
        self.updates: list[Snapshot] = []
        self.closed: list[Snapshot] = []

    def update(self, snapshot: Snapshot) -> None:
        self.updates.append(snapshot)

    def close(self, snapshot: Snapshot) -> None:
        self.closed.append(snapshot)


def test_the_progress_counts_every_process(
    sb: Sandbox, tmp_path: Path, taking_part: TakingPart
) -> None:
    finals = []
    for processes in (1, 2):
        sb.reset()
        config = load_config_text(Scenario().policy(processes, sb, tmp_path))
        recorder = Recorder()
        options = RunOptions(dry_run=False, progress=Progress([recorder], clock=lambda: 0.0))
        result = run_once(config, Clients(), NOW, options)
        assert result.exit_code == 0
        for earlier, later in zip(recorder.updates, recorder.updates[1:], strict=False):
            assert later.planned >= earlier.planned and later.done >= earlier.done
            assert later.deletions >= earlier.deletions
        (final,) = recorder.closed
        finals.append(final)
    assert taking_part.shares[-1][0] >= 1
    one, two = finals
    assert two == one
    assert one.done == one.planned == one.repositories == 4 and one.deletions > 0


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The run's events as JSON lines in a buffer; the logging setup restored after."""
    saved = structlog.get_config()
    monkeypatch.setattr(logs, "_settings", logs._settings)
    monkeypatch.setattr(logs, "_output", logs._output)
    buffer = io.StringIO()
    logs.configure("json", "info", stream=buffer)
    yield buffer
    structlog.configure(**saved)


def events(text: str) -> Counter[tuple[Any, ...]]:
    """Each event with what it says (its time and duration aside)."""
    found: Counter[tuple[Any, ...]] = Counter()
    for line in text.splitlines():
        event = json.loads(line)  # every line is one whole event
        event.pop("timestamp")
        event.pop("seconds", None)
        found[tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in event.items()))] += 1
    return found


def test_every_process_logs_the_same_events_in_the_same_format(
    sb: Sandbox, tmp_path: Path, taking_part: TakingPart, json_logs: io.StringIO
) -> None:
    logged = []
    for processes in (1, 2):
        sb.reset()
        config = load_config_text(Scenario().policy(processes, sb, tmp_path))
        json_logs.seek(0)
        json_logs.truncate()
        assert run_once(config, Clients(), NOW, RunOptions(dry_run=False)).exit_code == 0
        logged.append(events(json_logs.getvalue()))
    assert taking_part.shares[-1][0] >= 1
    one, two = logged
    assert two == one
    assert sum(n for e, n in one.items() if ("event", '"image_deleted"') in e) > 20


def test_a_shard_is_split_over_processes_like_a_whole_run(
    sb: Sandbox, tmp_path: Path, taking_part: TakingPart
) -> None:
    outcomes = []
    for processes in (1, 2):
        sb.reset()
        config = load_config_text(Scenario().policy(processes, sb, tmp_path))
        config = replace(config, limits=replace(config.limits, concurrency=4))
        options = RunOptions(dry_run=False, shard=Shard(0, 2))
        result = run_once(config, Clients(), NOW, options)
        outcomes.append((report_json(result), registry_state(sb)))
    assert taking_part.shares[-1][0] >= 1
    (one, one_left), (two, two_left) = outcomes
    assert 2 <= one["summary"]["repositories"] < 4  # a shard: some of the repositories
    assert (two, two_left) == (one, one_left)


def test_serve_records_the_same_run_and_metrics(
    sb: Sandbox, tmp_path: Path, taking_part: TakingPart
) -> None:
    recorded = []
    for processes in (1, 2):
        sb.reset()
        config = load_config_text(Scenario().policy(processes, sb, tmp_path))
        recorder = RunRecorder(config, ServeOptions(), StopRequest(), clock=lambda: NOW)
        recorder.metrics.progress_sink()
        assert recorder.run_pass() == 0
        metrics = [
            line
            for line in recorder.metrics.render().decode().splitlines()
            if not line.startswith("#") and "duration" not in line
        ]
        assert recorder.last_run is not None
        recorded.append((metrics, recorder.last_run.summary, len(recorder.cache)))
    assert taking_part.shares[-1][0] >= 1
    one, two = recorded
    assert two == one
    assert one[2] > 0  # the workers' manifests came back into serve's cache
