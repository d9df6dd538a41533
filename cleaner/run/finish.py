"""The last step of each planned repository, in whichever process planned it: execute
it (or say why not), log `repository_done`, count it as done."""

from __future__ import annotations

import time
from dataclasses import replace

import structlog

from cleaner.core.model import RepositoryPlan, SkipKind, SkipReason, Status
from cleaner.errors import error_text
from cleaner.report.model import RepositoryCounts
from cleaner.run.executor import execute
from cleaner.run.progress import Progress
from cleaner.run.scan import Planned
from cleaner.run.stopping import StopRequest

log = structlog.get_logger("cleaner.run.pipeline")


def makes_calls(item: Planned, *, limit_hit: bool) -> bool:
    """Whether finishing `item` calls ECR (re-describes, deletes, archives; a dry run
    re-describes): what a slot of limits.concurrency is for."""
    return not (limit_hit or item.registry is None or not item.plan.actions)


def finish(
    item: Planned, *, limit_hit: bool, dry_run: bool, stop: StopRequest, progress: Progress
) -> RepositoryPlan:
    """`limit_hit`: the whole run's plan is over limits.max_deletions, so nothing goes."""
    began = time.monotonic()
    if limit_hit:
        result = not_attempted(item.plan, SkipReason(SkipKind.LIMIT))
    elif item.registry is None:
        result = item.plan
    else:
        # serve's shutdown: between batches only
        result = _execute_isolated(item, dry_run, stop, progress)
    repository_done(result, dry_run, item.seconds + time.monotonic() - began)
    progress.repository_done()
    return result


def not_attempted(plan: RepositoryPlan, why: SkipReason) -> RepositoryPlan:
    return replace(plan, actions=tuple(a.skipped(why) for a in plan.actions))


def repository_done(plan: RepositoryPlan, dry_run: bool, seconds: float) -> None:
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
        plan = not_attempted(item.plan, SkipReason(SkipKind.REPOSITORY_FAILED))
        return replace(plan, error=f"failed: {error_text(exc)}", failed=True)
