"""targets → repositories → inventory → plan → execute → report, for every mode."""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

import structlog

from cleaner.config.model import Config
from cleaner.core.model import RepositoryPlan, SkipKind, SkipReason, Status
from cleaner.core.planner import check_max_deletions
from cleaner.errors import error_text
from cleaner.exitcodes import ExitCode
from cleaner.inuse.reader import TargetClients
from cleaner.report.model import RepositoryCounts, RunReport
from cleaner.run.executor import execute
from cleaner.run.options import RunOptions
from cleaner.run.progress import Progress
from cleaner.run.scan import Planned, Planner, in_pool
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
    with (
        ThreadPoolExecutor(config.limits.concurrency, thread_name_prefix="cleaner") as pool,
        contextlib.closing(progress),
    ):
        # Plan everything, check the run's limit, then execute: max_deletions holds for
        # the whole run however the work is spread over threads.
        planned = planner.plan_all(pool)
        warning = check_max_deletions([p.plan for p in planned], config.limits)
        limit_hit = warning is not None and not dry_run
        if warning:
            log.warning("max_deletions_exceeded", message=warning, dry_run=dry_run)

        def finish(item: Planned) -> RepositoryPlan:
            began = time.monotonic()
            if limit_hit:
                result = _not_attempted(item.plan, SkipReason(SkipKind.LIMIT))
            elif item.registry is None:
                result = item.plan
            else:
                # serve's shutdown: between batches only
                result = _execute_isolated(item, dry_run, stop, progress)
            _repository_done(result, dry_run, item.seconds + time.monotonic() - began)
            progress.repository_done()
            return result

        results = in_pool(pool, finish, planned)
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
        warnings=(*planner.warnings, *warnings),
        shard=shard,
        storage_price_per_gb_month=config.report.storage_price_per_gb_month,
    )
    exit_code = _exit_code(report, limit_hit)
    if stopped_by is not None and stop.exit_code is not None:
        exit_code = stop.exit_code
    log.info("run_finished", dry_run=dry_run, exit_code=exit_code, **report.summary())
    return RunResult(report, exit_code, stopped_by)


def _repository_done(plan: RepositoryPlan, dry_run: bool, seconds: float) -> None:
    counts = RepositoryCounts.of(plan, Status.PLANNED if dry_run else Status.DELETED)
    log.info(
        "repository_done",
        repository=plan.repository.name,
        region=plan.repository.region,
        registry_id=plan.repository.registry_id,
        dry_run=dry_run,
        images_scanned=counts.images_scanned,
        images_deleted=counts.images_deleted,
        images_archived=counts.images_archived,
        tags_removed=counts.tags_removed,
        bytes_reclaimed=counts.bytes_reclaimed,
        failures=counts.failures,
        error=plan.error,
        seconds=round(seconds, 3),
    )


def _execute_isolated(
    item: Planned, dry_run: bool, stop: StopRequest, progress: Progress
) -> RepositoryPlan:
    """One repository's unexpected error must not stop the others (AWS errors are
    already handled inside the executor, action by action)."""
    assert item.registry is not None
    try:
        return execute(
            item.plan,
            item.registry,
            item.expected_tags,
            dry_run=dry_run,
            stop=stop,
            progress=progress,
        )
    except Exception as exc:
        log.exception("repository_failed", repository=item.plan.repository.name)
        plan = _not_attempted(item.plan, SkipReason(SkipKind.REPOSITORY_FAILED))
        return replace(plan, error=f"failed: {error_text(exc)}", failed=True)


def _not_attempted(plan: RepositoryPlan, why: SkipReason) -> RepositoryPlan:
    return replace(plan, actions=tuple(a.skipped(why) for a in plan.actions))


def _stop_warning(stop: StopRequest) -> str:
    return (
        f"{stop.reason}: actions not attempted are reported as skipped, repositories not "
        "reached say 'not planned'; everything else is as the registry now holds it"
    )


def _exit_code(report: RunReport, limit_hit: bool) -> int:
    if limit_hit:
        return ExitCode.LIMIT
    return ExitCode.FAILURES if report.summary()["failures"] else ExitCode.OK
