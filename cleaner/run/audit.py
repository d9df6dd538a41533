"""`lifecycle audit`: for every repository the policy file selects, read the lifecycle
policy ECR has on it (GetLifecyclePolicy) and find what it would do to images the
policy protects. Read-only: the same listing and in-use sources as a plan, no deletion."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import structlog

from cleaner.aws.ecr import ManifestCache
from cleaner.config.lifecycle_source import policy_from_text
from cleaner.config.model import Config
from cleaner.core.lifecycle.audit import audit_repository
from cleaner.core.model import Shard
from cleaner.core.references import resolve_in_use
from cleaner.errors import error_text
from cleaner.inuse.reader import TargetClients
from cleaner.report.audit import AuditReport, RepositoryAudit
from cleaner.run.scan import Planned, Planner, in_pool

log = structlog.get_logger("cleaner.run.audit")


def audit_once(
    config: Config, clients: TargetClients, now: datetime, *, shard: Shard | None = None
) -> AuditReport:
    planner = Planner(config, clients, now, ManifestCache(), shard)
    with ThreadPoolExecutor(config.limits.concurrency, thread_name_prefix="audit") as pool:
        work, reported = planner.scan_all(pool)
        audited = in_pool(pool, lambda w: _audit(w, planner.cache, now), work)
    entries = audited + [_reported(p) for p in reported]
    report = AuditReport(now, entries, tuple(planner.warnings))
    log.info("audit_finished", exit_code=report.exit_code, **report.summary())
    return report


def _audit(work: Any, cache: ManifestCache, now: datetime) -> RepositoryAudit:
    """One repository (`work`: what Planner.scan_all found to work on)."""
    ref, policy = work.ref, work.policy
    try:
        inventory = work.registry.inventory(ref, cache)
        text = work.registry.lifecycle_policy(ref.name)
    except Exception as exc:  # one repository's failure never stops the others
        log.error("repository_failed", repository=ref.name, error=error_text(exc))
        error = f"not audited: {error_text(exc)}"
        return RepositoryAudit(ref, policy.name, error=error, failed=True)
    if text is None:
        return RepositoryAudit(ref, policy.name, len(inventory.images))
    try:
        ecr_policy = policy_from_text(text)
    except ValueError as exc:
        error = f"ECR's lifecycle policy cannot be read: {str(exc).replace(chr(10), '; ')}"
        images = len(inventory.images)
        return RepositoryAudit(ref, policy.name, images, True, error=error, failed=True)
    in_use = None if work.usages is None else resolve_in_use(inventory, work.usages)
    result = audit_repository(inventory, ecr_policy, policy.protect, now, in_use=in_use)
    images = len(inventory.images)
    return RepositoryAudit(ref, policy.name, images, True, result.acted_on, result.findings)


def _reported(planned: Planned) -> RepositoryAudit:
    """Repositories the scan could only report (not found, in-use sources unreadable)."""
    plan = planned.plan
    return RepositoryAudit(plan.repository, plan.policy, error=plan.error, failed=plan.failed)
