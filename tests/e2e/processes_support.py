"""Helpers for the limits.processes tests: making every worker take part, the registry's
state, reports without their timing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cleaner.report.render import to_json
from cleaner.run import fanout, slots
from cleaner.run.pipeline import RunResult
from cleaner.sandbox import Sandbox


class TakingPart:
    """Holds this process's threads back until every worker has been handed a
    repository (or none is left), so that a small run really is split; records how
    many repositories each worker planned, and lets a test see the run's workers."""

    def worker_repositories(self) -> set[str]:
        """The names of the repositories the running run's workers were handed."""
        fleet, fanout = self.fleet, self.fanout
        if fleet is None:
            return set()
        with fleet.lock:
            return {fanout.work[p].ref.name for w in fleet.workers for p in w.positions}

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.shares: list[list[int]] = []
        original_next = slots.Slots.next
        original_run = fanout.Fanout.run
        recorder = self

        def next_one(self: slots.Slots) -> int | None:
            deadline = time.monotonic() + 60
            with self.lock:
                while (
                    recorder.fleet is not None
                    and self._queue
                    and not all(w.positions or w.over for w in recorder.fleet.workers)
                    and time.monotonic() < deadline
                ):
                    self.lock.wait(0.05)
            return original_next(self)

        def run(self: fanout.Fanout) -> Any:
            recorder.fleet, recorder.fanout = self.fleet, self
            try:
                return original_run(self)
            finally:
                recorder.shares.append([len(w.positions) for w in self.fleet.workers])
                recorder.last_worker_repositories = recorder.worker_repositories()
                recorder.fleet = None

        self.fleet: Any = None
        self.fanout: Any = None  # the last run's
        self.last_worker_repositories: set[str] = set()
        monkeypatch.setattr(slots.Slots, "next", next_one)
        monkeypatch.setattr(fanout.Fanout, "run", run)


@pytest.fixture
def taking_part(monkeypatch: pytest.MonkeyPatch) -> Iterator[TakingPart]:
    yield TakingPart(monkeypatch)


def report_json(result: RunResult) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(to_json(result.report))
    for key in ("started_at", "finished_at"):
        report.pop(key)
    return report


def registry_state(sb: Sandbox) -> dict[str, dict[str, tuple[tuple[str, ...], str]]]:
    """Every repository: digest -> (sorted tags, storage status)."""
    state: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {}
    with sb.store.lock:
        for registry in sb.store._registries.values():  # a test's peek
            for repo in registry.values():
                state[f"{repo.region}/{repo.name}"] = {
                    d: (tuple(sorted(i.tags)), i.status) for d, i in repo.images.items()
                }
    return state


def worker_pids(parent: int) -> list[int]:
    """The run's worker processes: children of `parent` running cleaner.run.worker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"cleaner.run.worker" in cmdline:
            found.append(int(entry.name))
    return found
