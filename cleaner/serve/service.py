"""The service behind `serve`: cleaning passes on a schedule, one at a time.

APScheduler runs one job; `max_instances=1` and `coalesce=True` mean runs never overlap
and a backlog (the process was paused, a run took longer than the interval) becomes
one run, not a burst. A stop request is a flag the executor reads between batches, so
a batch that was re-described is always deleted (or not) as a whole; the run's report
is still written, and the service returns 0.
"""

from __future__ import annotations

import gc
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]

from cleaner.aws.clients import Clients
from cleaner.aws.ecr import ManifestCache
from cleaner.config.model import Config
from cleaner.core.model import Shard
from cleaner.errors import error_text
from cleaner.exitcodes import ExitCode, outcome_of
from cleaner.notify.message import RunOutcome
from cleaner.notify.send import Notifier
from cleaner.report.directory import ReportDirectory
from cleaner.report.model import Summary
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import ClientSource, RunResult, run_once
from cleaner.run.progress import Progress
from cleaner.run.stopping import StopRequest
from cleaner.serve.http import HealthServer
from cleaner.serve.metrics import Metrics

log = structlog.get_logger("cleaner.serve.service")

JOB_ID = "ecr-cleaner"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServeOptions:
    dry_run: bool = False
    once: bool = False
    listen: tuple[str, int] = ("127.0.0.1", 8080)
    report_dir: Path | None = None
    keep_reports: int = 30  # 0: keep every report
    jitter: int = 0  # seconds; each run starts up to this much later
    misfire_grace: int = 3600  # seconds a late run may still start
    shard: Shard | None = None  # only this shard's repositories (None: all)


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


class Service:
    """Runs cleaning passes, remembers the last one, and knows when to stop."""

    def __init__(
        self,
        config: Config,
        options: ServeOptions,
        *,
        clients: Callable[[], ClientSource] = Clients,
        runner: Runner = run_once,
        clock: Callable[[], datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        notifier: Notifier | None = None,
    ) -> None:
        self.config = config
        self.options = options
        # A new client source per run: nothing one run's AWS sessions hold (pooled
        # connections, assumed-role credentials) lives on into the next, for days.
        self._clients = clients
        self._runner = runner
        self._clock = clock
        self._monotonic = monotonic
        self.cache = ManifestCache()  # manifests are immutable: one cache for every run
        self.metrics = Metrics()
        self.notifier = notifier or Notifier()
        self.stop = StopRequest()
        self.in_progress = threading.Event()
        self.last_run: LastRun | None = None
        self.scheduler: BackgroundScheduler | None = None
        self._job: Any = None
        self.address: tuple[str, int] | None = None  # where /healthz is served, once it is
        self.listening = threading.Event()
        self.reports = (
            ReportDirectory(options.report_dir, options.keep_reports)
            if options.report_dir is not None
            else None
        )

    def request_stop(self, cause: str = "shutdown") -> None:
        """Safe from a signal handler: sets a flag, nothing else."""
        self.stop.request(cause)

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

    # -- the schedule -------------------------------------------------------------------

    def build_scheduler(self, trigger: BaseTrigger) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            timezone=UTC,
        )
        self._job = scheduler.add_job(
            self.run_pass,
            trigger=trigger,
            id=JOB_ID,
            name="cleaning pass",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=self.options.misfire_grace,
            replace_existing=True,
        )
        scheduler.add_listener(
            self._on_job_event, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )
        self.scheduler = scheduler
        return scheduler

    def next_run(self) -> datetime | None:
        # Read from the job object, never through the scheduler: its methods take the
        # job store lock, which shutdown() holds while it waits for the running job,
        # whose completion event calls back in here (a deadlock), and which would make
        # /healthz hang for the whole shutdown. The memory job store keeps this very
        # object and updates it in place.
        if self.scheduler is None or not self.scheduler.running or self._job is None:
            return None
        when = getattr(self._job, "next_run_time", None)
        return when if isinstance(when, datetime) else None

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning(
                "run_missed",
                scheduled=event.scheduled_run_time.isoformat(),
                misfire_grace_seconds=self.options.misfire_grace,
            )
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("run_skipped", reason="the previous run is still going")
        self.metrics.set_next_run(self.next_run())

    def health(self) -> tuple[bool, dict[str, Any]]:
        running = bool(self.scheduler is not None and self.scheduler.running)
        stopping = self.stop.requested()
        last = self.last_run
        failed = last is not None and last.exit_code is None
        healthy = running and not stopping and not failed
        status = "ok" if healthy else "stopping" if stopping else "failing" if failed else "down"
        next_run = self.next_run()
        schedule = self.config.schedule
        return healthy, {
            "status": status,
            "scheduler_running": running,
            "dry_run": self.options.dry_run,
            "schedule": {"cron": schedule.cron, "timezone": schedule.timezone}
            if schedule
            else None,
            "next_run": next_run.isoformat() if next_run else None,
            "last_run": last.to_dict() if last else None,
        }

    def serve_forever(self, trigger: BaseTrigger) -> int:
        """Listen, schedule, and wait for a stop request; then let the current run reach
        a batch boundary, write its report, and return 0."""
        host, port = self.options.listen
        try:
            http = HealthServer(host, port, self.health, self.metrics.render, self.reports)
        except OSError as exc:
            log.error("cannot_listen", listen=f"{host}:{port}", error=str(exc))
            return ExitCode.USAGE
        http.start()
        scheduler = self.build_scheduler(trigger)
        scheduler.start()
        self.metrics.set_next_run(self.next_run())
        host, port = self.address = http.address
        self.listening.set()
        log.info("serve_started", listen=f"{host}:{port}", next_run=_iso(self.next_run()))
        try:
            # A timed wait: the main thread must wake up to run signal handlers.
            while not self.stop.wait(1.0):
                pass
            log.info("shutdown_requested", run_in_progress=self.in_progress.is_set())
            scheduler.shutdown(wait=True)  # returns once the job in progress has returned
        finally:
            http.stop()
        log.info("serve_stopped")
        return ExitCode.OK


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None
