"""targets → repositories → inventory → plan → execute → report, for every mode."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

import structlog

from cleaner.config.model import Config
from cleaner.exitcodes import ExitCode
from cleaner.inuse.reader import TargetClients
from cleaner.report.model import RunReport
from cleaner.run.options import RunOptions
from cleaner.run.parallel import plan_and_execute
from cleaner.run.scan import Planner
from cleaner.run.stopping import StopRequest

log = structlog.get_logger("cleaner.run.pipeline")


# AWS clients for a target (its region, role and credentials): registry.Clients. The
# runner hands the same object to the in-use sources, so one protocol serves both.
ClientSource = TargetClients


@dataclass(frozen=True)
class RunResult:
    report: RunReport
    exit_code: int
    stopped_by: str | None = None  # the signal (or other cause) that stopped the run early


def run_once(
    config: Config, clients: ClientSource, now: datetime, options: RunOptions
) -> RunResult:
    """One pass over every target. `now` is the policy's clock (read once by the caller);
    `options` says whether it is a dry run, and what the caller lends it (run/options.py)."""
    dry_run, cache, stop, shard = options.dry_run, options.cache, options.stop, options.shard
    progress, pacing = options.progress, options.pacing
    started = options.clock()
    log.info("run_started", now=now.isoformat(), dry_run=dry_run, shard=shard and str(shard))
    progress.start(len(config.targets), dry_run=dry_run)
    planner = Planner(config, clients, now, cache, shard, pacing, stop, progress)
    with contextlib.closing(progress):
        # Plan everything, check the run's limit, then execute: max_deletions holds for
        # the whole run however the work is spread over threads and processes.
        outcome = plan_and_execute(planner, dry_run=dry_run)
    results, warning, limit_hit = outcome.results, outcome.warning, outcome.limit_hit
    warnings = [warning] if warning else []
    stopped_by = stop.cause if stop.requested() else None
    if stopped_by is not None:
        warnings.append(_stop_warning(stop))
        log.warning("run_stopped_early", cause=stopped_by)
    report = RunReport(
        mode="plan" if dry_run else "run",
        now=now,
        started_at=started,
        finished_at=options.clock(),
        repositories=results,
        warnings=(*outcome.warnings, *warnings),
        shard=shard,
        storage_price_per_gb_month=config.report.storage_price_per_gb_month,
    )
    exit_code = _exit_code(report, limit_hit)
    if stopped_by is not None and stop.exit_code is not None:
        exit_code = stop.exit_code
    log.info("run_finished", dry_run=dry_run, exit_code=exit_code, **report.summary())
    return RunResult(report, exit_code, stopped_by)


def _stop_warning(stop: StopRequest) -> str:
    return (
        f"{stop.reason}: actions not attempted are reported as skipped, repositories not "
        "reached say 'not planned'; everything else is as the registry now holds it"
    )


def _exit_code(report: RunReport, limit_hit: bool) -> int:
    if limit_hit:
        return ExitCode.LIMIT
    return ExitCode.FAILURES if report.summary()["failures"] else ExitCode.OK
