"""What ECR's own lifecycle policy would do to images this policy protects.

ECR sees a repository differently from the planner: every image is an image to it, so
the platform images of a multi-arch index are untagged images its rules count and
expire, and a cosign signature is just a tagged image; only OCI referrers (with a
`subject`) follow their subject. The audit evaluates ECR's policy over ECR's view and
reports each image ECR would expire (or archive) that the policy protects: in use, a
protected tag, pulled recently, needed to keep `keep_at_least`, or a platform image or
signature of an image that stays. Pure: `now` and the in-use map are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cleaner.config.lifecycle_model import ActionType, LifecyclePolicy
from cleaner.config.model import Protect
from cleaner.core.graph import EdgeKind, Graph, build_graph
from cleaner.core.lifecycle.evaluate import EcrVerdict, evaluate
from cleaner.core.model import Image, Inventory
from cleaner.core.protections import Guard


@dataclass(frozen=True, slots=True)
class Finding:
    """An image ECR's lifecycle policy would act on, and what of ours protects it."""

    digest: str
    tags: tuple[str, ...]
    action: ActionType  # expire (delete) or transition (archive)
    rule: int  # the ECR rule's rulePriority
    ecr_reason: str
    protected_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RepositoryAudit:
    acted_on: int  # images ECR would expire or archive
    findings: tuple[Finding, ...]


def audit_repository(
    inventory: Inventory,
    ecr_policy: LifecyclePolicy,
    protect: Protect,
    now: datetime,
    *,
    in_use: Mapping[str, str] | None = None,
) -> RepositoryAudit:
    graph = build_graph(inventory)
    images = inventory.images
    acted = _ecr_acts_on(inventory, graph, ecr_policy, now)
    guard = Guard(protect, in_use or {}, now)
    why: dict[str, list[str]] = {d: guard.reasons(images[d]) for d in acted}
    for digest in acted:
        for owner in graph.owners.get(digest, ()):
            naming = _naming(graph.kinds[(owner, digest)], owner)
            if owner not in acted:
                why[digest].append(f"{naming}, which ECR keeps")
            elif guard.reasons(images[owner]):
                why[digest].append(f"{naming}, which ecr-cleaner keeps")
    _keep_at_least(graph, images, acted, protect.keep_at_least, why)
    findings = [
        Finding(
            digest,
            tuple(sorted(set(images[digest].tags))),
            acted[digest].rule.action.type,
            acted[digest].rule.priority,
            acted[digest].reason,
            tuple(dict.fromkeys(reasons)),
        )
        for digest, reasons in sorted(why.items())
        if reasons
    ]
    return RepositoryAudit(len(acted), tuple(findings))


def _ecr_acts_on(
    inventory: Inventory, graph: Graph, policy: LifecyclePolicy, now: datetime
) -> dict[str, EcrVerdict]:
    """digest -> ECR's verdict, for every image ECR would act on as ECR sees them."""
    images = inventory.images
    follows = {d for d, i in images.items() if i.subject is not None and i.subject in images}
    verdicts = evaluate(policy, [i for d, i in images.items() if d not in follows], now)
    acted = {d: v for d, v in verdicts.items() if v.acts}
    # OCI referrers go with their subject (and theirs with them).
    pending = sorted(acted)
    while pending:
        subject = pending.pop()
        for dependent in graph.dependents.get(subject, ()):
            follower = dependent in follows and images[dependent].subject == subject
            if follower and dependent not in acted:
                acted[dependent] = acted[subject]
                pending.append(dependent)
    return acted


def _keep_at_least(
    graph: Graph,
    images: Mapping[str, Image],
    acted: Mapping[str, EcrVerdict],
    floor: int,
    why: dict[str, list[str]],
) -> None:
    """The newest top-level images ECR would remove below the policy's floor."""
    gone = [d for d in graph.top_level if d in acted]  # by digest: ties stay in that order
    short = floor - (len(graph.top_level) - len(gone))
    if short <= 0:
        return
    gone.sort(key=lambda d: images[d].pushed_at, reverse=True)
    for digest in gone[:short]:
        why[digest].append(f"protect.keep_at_least {floor}")


def _naming(kind: EdgeKind, owner: str) -> str:
    return f"child of index {owner}" if kind is EdgeKind.CHILD else f"referrer of {owner}"
