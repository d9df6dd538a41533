"""Fakes for `serve` tests: a runner that records its calls, reports made to order."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from cleaner.config.load import load_config_text
from cleaner.config.model import Config
from cleaner.core.model import Action, ActionKind, RepositoryPlan, RepositoryRef, Status
from cleaner.report.model import RunReport
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import RunResult
from cleaner.serve.service import ServeOptions, Service

NOW = datetime(2027, 1, 3, 3, 0, tzinfo=UTC)
REPO = RepositoryRef("us-east-1", "123456789012", "team-a/api")

POLICY = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: untagged
    rules: [{name: untagged, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]
schedule: {cron: "0 3 * * 0", timezone: UTC}
"""


def config(text: str = POLICY) -> Config:
    return load_config_text(text)


def action(
    n: int, status: Status, code: str | None = None, kind: ActionKind = ActionKind.DELETE_IMAGE
) -> Action:
    return Action(
        kind=kind,
        digest=f"sha256:{n:064x}",
        tags=("build-1",) if kind is ActionKind.REMOVE_TAG else (),
        rule="untagged",
        reason="pushed 9d ago",
        size_bytes=1000 * n,
        status=status,
        failure_code=code,
    )


def report(
    *actions: Action, now: datetime = NOW, mode: str = "run", failed: bool = False
) -> RunReport:
    plan = RepositoryPlan(
        REPO, "untagged", 10, actions=actions, failed=failed, error="boom" if failed else None
    )
    return RunReport(mode, now, now, now + timedelta(seconds=5), [plan])


@dataclass
class FakeRunner:
    """Stands in for runner.run_once: records each call, answers from `results`
    (a RunResult, or an exception to raise), optionally blocking until released."""

    results: list[RunResult | Exception] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    block: threading.Event | None = None
    entered: threading.Event = field(default_factory=threading.Event)
    active: int = 0
    max_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    finished: int = 0
    # Set once `finished` reaches `done_after`.
    done_after: int = 0
    done: threading.Event = field(default_factory=threading.Event)

    def __call__(
        self, config: Config, clients: Any, now: datetime, options: RunOptions
    ) -> RunResult:
        # Each option by name, as the call's other arguments (not dataclasses.asdict: it
        # would copy the cache and the stop request, whose identity the tests check).
        lent = {f.name: getattr(options, f.name) for f in fields(options)}
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.calls.append({"config": config, "clients": clients, "now": now, **lent})
            answer = self.results.pop(0) if self.results else RunResult(report(now=now), 0)
        self.entered.set()
        try:
            if self.block is not None:
                self.block.wait(10)
            if isinstance(answer, Exception):
                raise answer
            return answer
        finally:
            with self.lock:
                self.active -= 1
                self.finished += 1
                if self.done_after and self.finished >= self.done_after:
                    self.done.set()


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def service(
    runner: FakeRunner,
    options: ServeOptions | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    monotonic: Callable[[], float] | None = None,
    cfg: Config | None = None,
) -> Service:
    ticks = iter(range(0, 10_000, 5))
    return Service(
        cfg or config(),
        options or ServeOptions(listen=("127.0.0.1", 0)),
        clients=lambda: "clients",
        runner=runner,
        clock=clock or Clock(),
        monotonic=monotonic or (lambda: float(next(ticks))),
    )
