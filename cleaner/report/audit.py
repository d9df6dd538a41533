"""`lifecycle audit`'s report: per repository, the images ECR's own lifecycle policy would
expire (or archive) that the cleaner's policy protects. JSON for machines, a table for
people; `exit_code` is 1 when anything is at risk or could not be audited."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cleaner.core.lifecycle.audit import Finding
from cleaner.core.model import RepositoryRef
from cleaner.exitcodes import ExitCode


@dataclass(frozen=True)
class RepositoryAudit:
    repository: RepositoryRef
    policy: str | None
    images_scanned: int = 0
    has_lifecycle_policy: bool = False
    acted_on: int = 0  # images ECR's policy would expire or archive
    findings: tuple[Finding, ...] = ()
    error: str | None = None
    failed: bool = False  # `error` is a failure (not, say, a repository not found)


@dataclass(frozen=True)
class AuditReport:
    now: datetime
    repositories: Sequence[RepositoryAudit]
    warnings: Sequence[str] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        # A repository that could not be audited may hide an image at risk: a CI guard
        # must not pass on it.
        at_risk = any(r.findings or r.failed for r in self.repositories)
        return ExitCode.FAILURES if at_risk else ExitCode.OK

    def summary(self) -> dict[str, int]:
        audited = [r for r in self.repositories if r.error is None]
        return {
            "repositories": len(self.repositories),
            "with_lifecycle_policy": sum(r.has_lifecycle_policy for r in audited),
            "ecr_would_act_on": sum(r.acted_on for r in audited),
            "protected_at_risk": sum(len(r.findings) for r in audited),
            "failures": sum(r.failed for r in self.repositories),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": "lifecycle-audit",
            "now": self.now.isoformat(),
            "summary": self.summary(),
            "warnings": list(self.warnings),
            "repositories": [_repository(r) for r in _sorted(self.repositories)],
        }


def _sorted(repositories: Sequence[RepositoryAudit]) -> list[RepositoryAudit]:
    return sorted(repositories, key=lambda r: r.repository)


def _repository(r: RepositoryAudit) -> dict[str, Any]:
    return {
        "region": r.repository.region,
        "registry_id": r.repository.registry_id,
        "repository": r.repository.name,
        "policy": r.policy,
        "images_scanned": r.images_scanned,
        "lifecycle_policy": r.has_lifecycle_policy,
        "ecr_would_act_on": r.acted_on,
        "error": r.error,
        "at_risk": [
            {
                "digest": f.digest,
                "tags": list(f.tags),
                "ecr_action": f.action.value,
                "ecr_rule": f.rule,
                "ecr_reason": f.ecr_reason,
                "protected_by": list(f.protected_by),
            }
            for f in r.findings
        ],
    }


def to_json(report: AuditReport) -> str:
    return json.dumps(report.to_dict(), indent=2) + "\n"


def to_table(report: AuditReport) -> str:
    s = report.summary()
    lines = [f"ecr-cleaner lifecycle audit at {report.now.isoformat()}"]
    for r in _sorted(report.repositories):
        title = f"== {r.repository.region} {r.repository.registry_id} {r.repository.name}"
        lines.extend(["", f"{title} (policy {r.policy}, {r.images_scanned} images)"])
        if r.error is not None:
            lines.append(f"   ! {r.error}")
        elif not r.has_lifecycle_policy:
            lines.append("   no ECR lifecycle policy")
        elif not r.findings:
            lines.append(f"   ECR would act on {_images(r.acted_on)}; none that this policy keeps")
        else:
            at_risk = len(r.findings)
            lines.append(
                f"   ECR would act on {_images(r.acted_on)}; {at_risk} of them this policy keeps:"
            )
            for f in r.findings:
                verb = "expire" if f.action.value == "expire" else "archive"
                tags = ", ".join(f.tags) or "<untagged>"
                lines.append(f"   {f.digest[:19]}  {tags}")
                lines.append(f"      ECR rule {f.rule} would {verb} it: {f.ecr_reason}")
                lines.append(f"      kept by ecr-cleaner: {'; '.join(f.protected_by)}")
    lines.append("")
    lines.extend(f"WARNING: {w}" for w in report.warnings)
    repositories = "repository" if s["repositories"] == 1 else "repositories"
    lines.append(
        f"{s['repositories']} {repositories}, {s['with_lifecycle_policy']} with an ECR lifecycle "
        f"policy: ECR would act on {_images(s['ecr_would_act_on'])}, "
        f"{s['protected_at_risk']} of which this policy keeps; {_count(s['failures'], 'failure')}"
    )
    return "\n".join(lines) + "\n"


def _images(n: int) -> str:
    return _count(n, "image")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


RENDERERS = {"json": to_json, "table": to_table}
