"""The daemon behind `serve`: cleaning passes on a schedule, one at a time.

APScheduler runs one job; `max_instances=1` and `coalesce=True` mean runs never overlap
and a backlog (the process was paused, a run took longer than the interval) becomes
one run, not a burst. A stop request is a flag the executor reads between batches, so
a batch that was re-described is always deleted (or not) as a whole; the run's report
is still written, and the service returns 0.
"""

from __future__ import annotations

import threading
import time
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
from cleaner.exitcodes import ExitCode
from cleaner.notify.send import Notifier
from cleaner.report.directory import ReportDirectory
from cleaner.run.pipeline import ClientSource, run_once
from cleaner.run.stopping import StopRequest
from cleaner.serve.http import HealthServer
from cleaner.serve.metrics import Metrics
from cleaner.serve.recorder import LastRun, Runner, RunRecorder, utcnow

log = structlog.get_logger("cleaner.serve.service")

JOB_ID = "ecr-cleaner"


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


class Service:
    """The daemon: schedules the recorder's passes, answers /healthz and /metrics, and
    knows when to stop."""

    def __init__(
        self,
        config: Config,
        options: ServeOptions,
        *,
        clients: Callable[[], ClientSource] = Clients,
        runner: Runner = run_once,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        notifier: Notifier | None = None,
    ) -> None:
        self.config = config
        self.options = options
        self.stop = StopRequest()
        self.recorder = RunRecorder(
            config,
            options,
            self.stop,
            clients=clients,
            runner=runner,
            clock=clock,
            monotonic=monotonic,
            notifier=notifier,
        )
        self.scheduler: BackgroundScheduler | None = None
        self._job: Any = None
        self.address: tuple[str, int] | None = None  # where /healthz is served, once it is
        self.listening = threading.Event()

    # What a pass records, read through the daemon (health, the HTTP endpoints, tests).
    @property
    def metrics(self) -> Metrics:
        return self.recorder.metrics

    @property
    def last_run(self) -> LastRun | None:
        return self.recorder.last_run

    @property
    def cache(self) -> ManifestCache:
        return self.recorder.cache

    @property
    def reports(self) -> ReportDirectory | None:
        return self.recorder.reports

    @property
    def in_progress(self) -> threading.Event:
        return self.recorder.in_progress

    def request_stop(self, cause: str = "shutdown") -> None:
        """Safe from a signal handler: sets a flag, nothing else."""
        self.stop.request(cause)

    def run_pass(self) -> int | None:
        return self.recorder.run_pass()

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
