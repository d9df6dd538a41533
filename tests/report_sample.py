"""Reports for the HTML tests: one planned by the real planner over 27 repositories
(26 with images to delete, so the storage chart shows its 20 largest), where a tag, a
reason and the largest repository's name try to inject markup; and a large one made
of plain rows."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

from cleaner.config.load import load_config_text
from cleaner.core.model import (
    Action,
    ActionKind,
    Image,
    Inventory,
    Kept,
    RepositoryPlan,
    RepositoryRef,
    Status,
)
from cleaner.core.planner import plan_repository
from cleaner.report.model import RunReport

NOW = datetime(2027, 1, 1, tzinfo=UTC)
MIB = 1024 * 1024
HOSTILE_TAG = '<script>alert("tag")</script>'
HOSTILE_REASON = '</script><script>alert("reason")</script><img src=x onerror=alert(1)>'
HOSTILE_REPOSITORY = "team-a/<b>bold</b>&amp"

POLICY = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: services
    protect: {tags: [latest]}
    rules:
      - name: feature-branches
        select: {tag_status: tagged, tags: ["feature-*"]}
        keep: {most_recent: 2, group_by: "re:^feature-([a-z0-9]+)-"}
        expire: {pushed_before: 14d}
      - name: releases
        select: {tag_status: tagged, tags: ["re:^v\\\\d+\\\\.\\\\d+\\\\.\\\\d+$"]}
        keep: {most_recent: 4, order_by: semver}
      - name: untagged
        select: {tag_status: untagged}
        expire: {pushed_before: 1d}
"""


def _digest(*parts: object) -> str:
    return "sha256:" + hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def _inventory(n: int, name: str, *, deletable: bool = True) -> Inventory:
    images: list[Image] = []

    def add(tags: tuple[str, ...], days: float, size: int) -> None:
        pushed = NOW - timedelta(days=days)
        images.append(Image(_digest(name, len(images)), tags, pushed, None, size))

    base = (n + 1) * 7 * MIB
    add(("latest",), 0.2, base)
    if deletable:
        for j in range(10):  # two branches, 5 builds each, 3 to 60 days old
            add((f"feature-b{j % 2}-{j}",), 3 + j * 6, base + j * MIB)
        for j in range(3):
            add((), 0.5 + j * 20, base // 2)
    for j in range(6):  # releases; the oldest two also carry a feature tag: a tag removal
        tags = (f"v1.{j}.0",) + ((f"feature-r{j}-{j}",) if j < 2 and deletable else ())
        add(tags, 400 - j * 60, base)
    ref = RepositoryRef("us-east-1", "123456789012", name)
    return Inventory(ref, {i.digest: i for i in images})


def repository_names(hostile: bool = True) -> list[str]:
    names = [f"team-{'abcd'[n % 4]}/service-{n:02d}" for n in range(24)]
    last = HOSTILE_REPOSITORY if hostile else names[-1]
    return [*names[:-1], last, "team-e/quiet-1", "team-e/quiet-2"]


def _hostile(plan: RepositoryPlan) -> RepositoryPlan:
    first = plan.actions[0]
    hostile = dataclasses.replace(first, tags=(HOSTILE_TAG,), reason=HOSTILE_REASON)
    return dataclasses.replace(plan, actions=(hostile, *plan.actions[1:]))


def sample_report(mode: str = "plan", *, hostile: bool = True, failing: bool = True) -> RunReport:
    """`hostile` False: without the markup (for pictures of the page); `failing` False:
    without the repository that failed and (in a run) the deletion that failed."""
    config = load_config_text(POLICY)
    policy = config.policies[0]
    plans = []
    for n, name in enumerate(repository_names(hostile)):
        inventory = _inventory(n, name, deletable=not name.startswith("team-e/"))
        plan = plan_repository(inventory, policy, config.limits, NOW)
        plans.append(_hostile(plan) if name == HOSTILE_REPOSITORY else plan)
    if failing:
        broken = RepositoryRef("us-east-1", "123456789012", "team-e/broken")
        error = "failed: AccessDenied"
        plans.append(RepositoryPlan(broken, "services", 0, error=error, failed=True))
    if mode == "run":
        plans = [_as_run(p, failing) for p in plans]
    finished = NOW + timedelta(seconds=42)
    warnings = ("a warning & <em>note</em>",) if hostile else ()
    return RunReport(mode, NOW, NOW, finished, plans, warnings=warnings)


def _as_run(plan: RepositoryPlan, failing: bool) -> RepositoryPlan:
    """Planned actions done, except (if `failing`) the first of service-03, which failed."""
    actions = []
    for a in plan.actions:
        failed = failing and plan.repository.name.endswith("service-03") and not actions
        status = Status.FAILED if failed else Status.DELETED
        code = "ImageReferencedByManifestList" if failed else None
        actions.append(dataclasses.replace(a, status=status, failure_code=code))
    return dataclasses.replace(plan, actions=tuple(actions))


def large_report(rows: int, repositories: int = 50) -> RunReport:
    """`rows` decisions (3 in 5 deletions, 1 in 5 tag removals, 1 in 5 kept), made
    directly: the planner is not what this measures."""
    plans = []
    per_repository = rows // repositories
    for r in range(repositories):
        actions: list[Action] = []
        kept: list[Kept] = []
        for k in range(per_repository):
            digest = _digest("large", r, k)
            pushed = NOW - timedelta(days=(k * 7) % 500, hours=k % 24)
            if k % 5 == 4:
                kept.append(Kept(digest, (f"v{k}.0.0",), "protected tag", pushed, 50 * MIB))
                continue
            tag = (f"feature-b{k % 9}-{k}",)
            if k % 5 == 3:
                kind, size, rule = ActionKind.REMOVE_TAG, 0, "stale-tags"
            else:
                kind, size, rule = ActionKind.DELETE_IMAGE, (r + 1) * MIB + k, "feature-branches"
            reason = f"beyond 3 most recent in group 'b{k % 9}'; pushed {(k * 7) % 500}d ago"
            actions.append(
                Action(
                    kind, digest, tag, rule, reason, size, status=Status.PLANNED, pushed_at=pushed
                )
            )
        ref = RepositoryRef("us-east-1", "123456789012", f"team-{r % 5}/service-{r:03d}")
        plans.append(RepositoryPlan(ref, "bulk", per_repository, tuple(actions), tuple(kept)))
    return RunReport("plan", NOW, NOW, NOW + timedelta(seconds=9), plans)
