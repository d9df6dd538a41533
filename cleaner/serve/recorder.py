"""One cleaning pass of `serve`, and what it leaves behind: the last run, the metrics,
the report directory, the notifications. The daemon (cleaner/serve/service.py) decides
when a pass runs and when to stop; this module only runs and records it."""

from __future__ import annotations

import gc
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from cleaner.aws.clients import Clients
from cleaner.aws.ecr import ManifestCache
from cleaner.config.model import Config
from cleaner.errors import error_text
from cleaner.exitcodes import outcome_of
from cleaner.notify.message import RunOutcome
from cleaner.notify.send import Notifier
from cleaner.report.directory import ReportDirectory
from cleaner.report.model import Summary
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import ClientSource, RunResult, run_once
from cleaner.run.progress import Progress
from cleaner.run.stopping import StopRequest
from cleaner.serve.metrics import Metrics

if TYPE_CHECKING:
    from cleaner.serve.service import ServeOptions

log = structlog.get_logger("cleaner.serve.recorder")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LastRun:
    run_id: str
    started_at: datetime
    finished_at: datetime
    exit_code: int | None  # None: the run raised
    error: str | None = None
    report_path: str | None = None
    summary: Summary | None = None
    stopped_by: str | None = None  # a stop request ended the run early

    @property
    def outcome(self) -> str:
        return outcome_of(self.exit_code, stopped=self.stopped_by is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "exit_code": self.exit_code,
            "outcome": self.outcome,
            "error": self.error,
            "report": self.report_path,
            "summary": dict(self.summary) if self.summary is not None else None,
            "stopped_by": self.stopped_by,
        }


Runner = Callable[[Config, ClientSource, datetime, RunOptions], RunResult]


class RunRecorder:
    """Runs cleaning passes and remembers the last one; `stop` is the daemon's."""

    def __init__(
        self,
        config: Config,
        options: ServeOptions,
        stop: StopRequest,
        *,
        clients: Callable[[], ClientSource] = Clients,
        runner: Runner = run_once,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        notifier: Notifier | None = None,
    ) -> None:
        self.config = config
        self.options = options
        self.stop = stop
        # A new client source per run: nothing one run's AWS sessions hold (pooled
        # connections, assumed-role credentials) lives on into the next, for days.
        self._clients = clients
        self._runner = runner
        self._clock = clock
        self._monotonic = monotonic
        self.cache = ManifestCache()  # manifests are immutable: one cache for every run
        self.metrics = Metrics()
        self.notifier = notifier or Notifier()
        self.in_progress = threading.Event()
        self.last_run: LastRun | None = None
        self.reports = (
            ReportDirectory(options.report_dir, options.keep_reports)
            if options.report_dir is not None
            else None
        )

    def run_pass(self) -> int | None:
        """One cleaning pass; its exit code, or None if it raised (logged, never re-raised:
        the schedule goes on)."""
        run_id = uuid.uuid4().hex
        with structlog.contextvars.bound_contextvars(run_id=run_id):
            now = self._clock()  # the policy's clock, read once for the whole run
            started = self._monotonic()
            self.in_progress.set()
            self.metrics.in_progress.set(1)
            try:
                options = RunOptions(
                    dry_run=self.options.dry_run,
                    cache=self.cache,
                    clock=self._clock,
                    stop=self.stop,
                    shard=self.options.shard,
                    progress=Progress([self.metrics.progress_sink()]),
                )
                result = self._runner(self.config, self._clients(), now, options)
            except Exception as exc:
                log.exception("run_crashed", error=error_text(exc))
                self._finish(LastRun(run_id, now, self._clock(), None, error_text(exc)), started)
                self._notify(RunOutcome(None, None, error=error_text(exc)))
                return None
            finally:
                self.in_progress.clear()
                self.metrics.in_progress.set(0)
            report = result.report
            # The cache follows the registry, not its history: only what this run saw.
            self.cache.keep_only(plan.repository for plan in report.repositories)
            stopped = result.stopped_by is not None
            path = self._write_report(report, run_id, outcome_of(result.exit_code, stopped=stopped))
            summary = report.summary()
            last = LastRun(
                run_id,
                now,
                report.finished_at,
                result.exit_code,
                None,
                path,
                summary,
                stopped_by=result.stopped_by,
            )
            self._finish(last, started, result)
            self._notify(RunOutcome(report, result.exit_code, result.stopped_by))
            code = result.exit_code
            del result, report
            # A run's clients, sessions and plans are reference cycles, freed only by a
            # full collection, which the raised thresholds (cleaner/tuning.py) make
            # rare: without this, resident memory climbed by ~5 MiB a run between them
            # (bench/serve_soak.py). Once a run, it costs a few milliseconds.
            gc.collect()
            return code

    def _notify(self, outcome: RunOutcome) -> None:
        for failed in self.notifier.send(outcome):
            self.metrics.notifications_failed.labels(failed.kind.value).inc()

    def _write_report(self, report: Any, run_id: str, outcome: str) -> str | None:
        if self.reports is None:
            return None
        try:
            return str(self.reports.write(report, run_id, outcome))
        except OSError as exc:
            # The run is done; a full disk must not turn it into a crash.
            log.error("report_not_written", directory=str(self.reports.path), error=str(exc))
            return None

    def _finish(self, last: LastRun, started: float, result: RunResult | None = None) -> None:
        duration = self._monotonic() - started
        self.metrics.observe(
            result.report if result else None,
            last.outcome,
            finished=last.finished_at,
            duration=duration,
        )
        self.last_run = last
        log.info(
            "run_recorded",
            outcome=last.outcome,
            exit_code=last.exit_code,
            duration_seconds=round(duration, 3),
            report=last.report_path,
        )
