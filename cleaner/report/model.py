"""A run's report: every repository's plan and results, with the run's totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cleaner.core.model import ActionKind, RepositoryPlan, Status
from cleaner.run.shard import Shard


@dataclass(frozen=True)
class RunReport:
    mode: str  # "plan" or "run"
    now: datetime
    started_at: datetime
    finished_at: datetime
    repositories: Sequence[RepositoryPlan]
    warnings: Sequence[str] = field(default_factory=tuple)
    shard: Shard | None = None  # None: every repository; else only this shard's

    @property
    def counted_status(self) -> Status:
        return Status.PLANNED if self.mode == "plan" else Status.DELETED

    def summary(self) -> dict[str, int]:
        counted = self.counted_status
        images = archived = tags = size = failures = 0
        for repo in self.repositories:
            failures += 1 if repo.failed else 0
            for action in repo.actions:
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
        return {
            # A target whose repositories could not be listed is a failure, not a repository.
            "repositories": sum(1 for r in self.repositories if not r.whole_target),
            "images_scanned": sum(r.images_scanned for r in self.repositories),
            "images_deleted": images,
            "images_archived": archived,
            "tags_removed": tags,
            "bytes_reclaimed": size,
            "failures": failures,
        }

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mode": self.mode,
            "now": self.now.isoformat(),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "shard": {"index": self.shard.index, "count": self.shard.count} if self.shard else None,
            "summary": self.summary(),
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
