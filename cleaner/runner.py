"""targets → repositories → inventory → plan → execute → report, for every mode."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from cleaner.executor import execute
from cleaner.model import RepositoryPlan, RepositoryRef, Status
from cleaner.planner import check_max_deletions, plan_repository
from cleaner.policy import Config, Target
from cleaner.registry import ManifestCache, Registry, error_text
from cleaner.report import RunReport

log = structlog.get_logger("cleaner.runner")

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_LIMIT = 3


class ClientSource(Protocol):
    def ecr(self, region: str, role_arn: str | None = None) -> Any: ...


@dataclass(frozen=True)
class RunResult:
    report: RunReport
    exit_code: int


@dataclass
class _Planned:
    plan: RepositoryPlan
    registry: Registry | None
    expected_tags: Mapping[str, tuple[str, ...]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def run_once(
    config: Config,
    clients: ClientSource,
    now: datetime,
    *,
    dry_run: bool,
    cache: ManifestCache | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> RunResult:
    """One pass over every target. `now` is the policy's clock (read once by the caller);
    `clock` only stamps the report's start and finish."""
    started = clock()
    cache = cache if cache is not None else ManifestCache()
    planned: list[_Planned] = []
    for target in config.targets:
        planned.extend(_plan_target(config, target, clients, now, cache))

    warning = check_max_deletions([p.plan for p in planned], config.limits)
    limit_hit = warning is not None and not dry_run
    if warning:
        log.warning("max_deletions_exceeded", message=warning, dry_run=dry_run)
    results: list[RepositoryPlan] = []
    for item in planned:
        if limit_hit:
            results.append(_not_attempted(item.plan, "stopped by limits.max_deletions"))
        elif item.registry is None:
            results.append(item.plan)
        else:
            results.append(execute(item.plan, item.registry, item.expected_tags, dry_run=dry_run))
    report = RunReport(
        mode="plan" if dry_run else "run",
        now=now,
        started_at=started,
        finished_at=clock(),
        repositories=results,
        warnings=(warning,) if warning else (),
    )
    exit_code = _exit_code(report, limit_hit)
    log.info("run_finished", dry_run=dry_run, exit_code=exit_code, **report.summary())
    return RunResult(report, exit_code)


def _plan_target(
    config: Config, target: Target, clients: ClientSource, now: datetime, cache: ManifestCache
) -> list[_Planned]:
    try:
        registry = Registry(
            clients.ecr(target.region, target.role_arn), target.region, target.registry_id
        )
        repositories = registry.repositories()
    except (ClientError, BotoCoreError) as exc:
        ref = RepositoryRef(target.region, target.registry_id or "default", "*")
        error = f"cannot list repositories: {error_text(exc)}"
        log.error(
            "target_failed", region=target.region, registry_id=target.registry_id, error=error
        )
        return [_Planned(RepositoryPlan(ref, None, 0, error=error, failed=True), None, {})]
    out = []
    for ref in repositories:
        policy = config.policy_for(ref.name)
        if policy is None or not target.repositories.matches(ref.name):
            continue
        try:
            inventory = registry.inventory(ref, cache)
            plan = plan_repository(inventory, policy, config.limits, now)
        except Exception as exc:  # one repository's failure never stops the others
            error = f"not touched: {error_text(exc)}"
            log.error(
                "repository_failed",
                repository=ref.name,
                region=ref.region,
                registry_id=ref.registry_id,
                error=error,
            )
            plan = RepositoryPlan(ref, policy.name, 0, error=error, failed=True)
            out.append(_Planned(plan, None, {}))
            continue
        expected = {a.digest: inventory.images[a.digest].tags for a in plan.actions}
        out.append(_Planned(plan, registry, expected))
    return out


def _execute_isolated(item: _Planned, dry_run: bool) -> RepositoryPlan:
    """One repository's unexpected error must not stop the others (AWS errors are
    already handled inside the executor, action by action)."""
    assert item.registry is not None
    try:
        return execute(item.plan, item.registry, item.expected_tags, dry_run=dry_run)
    except Exception as exc:
        log.exception("repository_failed", repository=item.plan.repository.name)
        plan = _not_attempted(item.plan, "the repository failed")
        return replace(plan, error=f"failed: {error_text(exc)}", failed=True)


def _not_attempted(plan: RepositoryPlan, why: str) -> RepositoryPlan:
    actions = tuple(
        replace(a, status=Status.SKIPPED, reason=f"{a.reason}; not attempted: {why}")
        for a in plan.actions
    )
    return replace(plan, actions=actions)


def _exit_code(report: RunReport, limit_hit: bool) -> int:
    if limit_hit:
        return EXIT_LIMIT
    return EXIT_FAILURES if report.summary()["failures"] else EXIT_OK
