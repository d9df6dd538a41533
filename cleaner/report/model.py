"""A run's report: every repository's plan and results, with the run's totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from cleaner.config.notify_model import DEFAULT_STORAGE_PRICE
from cleaner.core.model import ActionKind, RepositoryPlan, Shard, Status

# AWS bills storage per GB-month with GB = 2**30 bytes (the GiB the table prints).
BYTES_PER_GB = 2**30
# A repository that could not be listed, planned or deleted from has no per-image code.
REPOSITORY_FAILED = "RepositoryFailed"
SAVINGS_CAVEAT = "an upper bound: layers shared with images that stay are not freed"


class Summary(TypedDict):
    repositories: int
    images_scanned: int
    images_deleted: int  # planned, in a plan
    images_archived: int
    tags_removed: int
    bytes_reclaimed: int
    estimated_monthly_savings_usd: float
    failures: int


@dataclass(frozen=True)
class RepositoryCounts:
    """One repository's numbers: what was deleted (planned, in a plan), its failures."""

    images_scanned: int = 0
    images_deleted: int = 0
    images_archived: int = 0
    tags_removed: int = 0
    bytes_reclaimed: int = 0
    failures: int = 0  # failed actions, and the repository itself if it failed

    @classmethod
    def of(cls, plan: RepositoryPlan, counted: Status) -> RepositoryCounts:
        images = archived = tags = size = 0
        failures = 1 if plan.failed else 0
        for action in plan.actions:
            if action.status is Status.FAILED:
                failures += 1
            if action.kind is ActionKind.ARCHIVE_IMAGE:
                # Archive storage is billed too: an archived image reclaims nothing.
                archived += action.status in (counted, Status.ARCHIVED)
                continue
            if action.status is not counted:
                continue
            if action.kind is ActionKind.DELETE_IMAGE:
                images += 1
                size += action.size_bytes
            else:
                tags += len(action.tags)
        return cls(plan.images_scanned, images, archived, tags, size, failures)


def monthly_savings_usd(size_bytes: int, price_per_gb_month: float) -> float:
    """What storing `size_bytes` costs a month, in US dollars, to the cent."""
    return round(size_bytes / BYTES_PER_GB * price_per_gb_month, 2)


@dataclass(frozen=True)
class RunReport:
    mode: str  # "plan" or "run"
    now: datetime
    started_at: datetime
    finished_at: datetime
    repositories: Sequence[RepositoryPlan]
    warnings: Sequence[str] = field(default_factory=tuple)
    shard: Shard | None = None  # None: every repository; else only this shard's
    storage_price_per_gb_month: float = DEFAULT_STORAGE_PRICE

    @property
    def counted_status(self) -> Status:
        return Status.PLANNED if self.mode == "plan" else Status.DELETED

    def counts(self, plan: RepositoryPlan) -> RepositoryCounts:
        return RepositoryCounts.of(plan, self.counted_status)

    def summary(self) -> Summary:
        totals = [self.counts(r) for r in self.repositories]
        size = sum(c.bytes_reclaimed for c in totals)
        return {
            # A target whose repositories could not be listed is a failure, not a repository.
            "repositories": sum(1 for r in self.repositories if not r.whole_target),
            "images_scanned": sum(c.images_scanned for c in totals),
            "images_deleted": sum(c.images_deleted for c in totals),
            "images_archived": sum(c.images_archived for c in totals),
            "tags_removed": sum(c.tags_removed for c in totals),
            "bytes_reclaimed": size,
            "estimated_monthly_savings_usd": monthly_savings_usd(
                size, self.storage_price_per_gb_month
            ),
            "failures": sum(c.failures for c in totals),
        }

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mode": self.mode,
            "now": self.now.isoformat(),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "shard": {"index": self.shard.index, "count": self.shard.count} if self.shard else None,
            "summary": dict(self.summary()),
            "repositories": [_repository(r) for r in sorted_plans(self.repositories)],
        }
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def sorted_plans(plans: Sequence[RepositoryPlan]) -> list[RepositoryPlan]:
    return sorted(plans, key=lambda p: p.repository)


def _repository(plan: RepositoryPlan) -> dict[str, Any]:
    return {
        "region": plan.repository.region,
        "registry_id": plan.repository.registry_id,
        "repository": plan.repository.name,
        "policy": plan.policy,
        "images_scanned": plan.images_scanned,
        "error": plan.error,
        "actions": [
            {
                "kind": a.kind.value,
                "digest": a.digest,
                "tags": list(a.tags),
                "rule": a.rule,
                "reason": a.reason,
                "size_bytes": a.size_bytes,
                "status": a.status.value,
                "failure_code": a.failure_code,
            }
            for a in plan.actions
        ],
        "kept": [{"digest": k.digest, "tags": list(k.tags), "reason": k.reason} for k in plan.kept],
    }
