"""Rules + protections + limits -> one repository's plan, every decision with its reason.

What it means: docs/semantics.md; what it records: docs/report.md. Pure: `now` and the
in-use map are passed in; no AWS, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from cleaner.config.model import Limits, OrphanedReferrers, Policy, RuleAction, Select
from cleaner.core.graph import EdgeKind, Fallout, Graph, build_graph, fallout
from cleaner.core.lifecycle.plan import kept_reason, lifecycle_rounds
from cleaner.core.model import Action, ActionKind, Image, Inventory, Kept, RepositoryPlan
from cleaner.core.protections import Guard
from cleaner.core.rules import Claims, Decision, Verdict, run_rules, select_candidates
from cleaner.core.storage import (
    archived_in_use,
    archived_indexes_first,
    check_max_deletions,
    dependent_kind,
    in_service,
    ratio_error,
    whole_image_action,
)

__all__ = ["ORPHAN_RULE", "check_max_deletions", "plan_repository"]

ORPHAN_RULE = "orphaned-referrers"


@dataclass(frozen=True, slots=True)
class _Ruling:
    rank: int  # the rule's position: lower is higher priority
    rule: str
    decision: Decision
    archive: bool = False  # the rule archives what it expires whole, instead of deleting


@dataclass(slots=True)
class _Fate:
    """What the rules and protections decided about one top-level image."""

    image: Image
    tags: dict[str, _Ruling] = field(default_factory=dict)  # selected tag -> ruling
    untagged: _Ruling | None = None
    protections: list[str] = field(default_factory=list)
    protected_tags: set[str] = field(default_factory=set)
    untouchable: bool = False  # no tag removed, not deleted
    whole: bool = False  # decided as a whole image (ECR lifecycle): a protected tag keeps it
    # What really goes, settled once protections are known (see `protect`).
    gone: list[tuple[str | None, _Ruling]] = field(default_factory=list)
    doomed: bool = False

    @property
    def selected(self) -> bool:
        return bool(self.tags) or self.untagged is not None

    @property
    def archived(self) -> bool:
        """Doomed, and archived rather than deleted: the reversible choice wins when the
        rules that expired it disagree."""
        return self.doomed and any(r.archive for _, r in self.gone)

    def protect(self, reasons: list[str], tags: set[str], untouchable: bool) -> None:
        """Apply protections, then settle what goes (planning asks for it many times)."""
        self.protections.extend(reasons)
        self.protected_tags |= tags
        self.untouchable = self.untouchable or untouchable or (self.whole and bool(tags))
        self.gone = self.expiries()
        names = {tag for tag, _ in self.gone}
        self.doomed = (None in names) if not self.image.tags else names >= set(self.image.tags)

    def expiries(self) -> list[tuple[str | None, _Ruling]]:
        """The expired items that will really go: (tag, or None for the image itself)."""
        if self.untouchable or not (self.tags or self.untagged):
            return []
        items = self.tags.items()
        found: list[tuple[str | None, _Ruling]] = [
            (tag, r)
            for tag, r in (items if len(self.tags) < 2 else sorted(items))
            if r.decision.expired and tag not in self.protected_tags
        ]
        if self.untagged is not None and self.untagged.decision.expired:
            found.append((None, self.untagged))
        return found


def plan_repository(
    inventory: Inventory,
    policy: Policy,
    limits: Limits,
    now: datetime,
    *,
    in_use: Mapping[str, str] | None = None,
) -> RepositoryPlan:
    """Plan one repository. `in_use` maps a digest to the workload that uses it."""
    graph = build_graph(inventory)
    guard = Guard(policy.protect, in_use or {}, now)
    fates = _apply_rules(inventory, graph, policy, limits, now)
    for digest, fate in fates.items():
        if not fate.selected and digest not in graph.orphaned_referrers:
            continue  # nothing to protect, and such an image is listed nowhere
        untouchable = guard.untouchable(fate.image)
        protected = guard.protected_tags(fate.image)
        reasons = untouchable + [f"protected tag {t}" for t in protected]
        fate.protect(reasons, set(protected), bool(untouchable))
    shielded = {
        d for d, image in inventory.images.items() if d not in fates and guard.reasons(image)
    }
    floor = policy.protect.keep_at_least
    doomed, after = _keep_at_least(graph, fates, shielded, floor, inventory.images)
    plan = RepositoryPlan(inventory.repository, policy.name, len(inventory.images))
    plan = replace(plan, warnings=archived_in_use(inventory, in_use or {}))
    ratio = limits.max_deletion_ratio
    archived = {d for d in doomed if fates[d].archived}
    error = ratio_error((f.image for f in fates.values()), set(doomed), archived, ratio)
    if error is not None:
        return replace(plan, kept=tuple(_kept(fates, graph, limits, ratio_hold=ratio)), error=error)
    actions = _top_level_actions(fates) + _dependent_actions(inventory, graph, fates, after)
    kept = _kept(fates, graph, limits) + _kept_dependents(inventory, guard, after)
    actions = archived_indexes_first(actions, inventory.images)
    actions.sort(key=lambda a: (a.phase, a.kind, a.digest))
    kept.sort(key=lambda k: k.digest)
    return replace(plan, actions=tuple(actions), kept=tuple(kept))


def _apply_rules(
    inventory: Inventory, graph: Graph, policy: Policy, limits: Limits, now: datetime
) -> dict[str, _Fate]:
    """Run the rules (and the orphaned-referrers pseudo-rule) over the top-level images."""
    whole = policy.lifecycle is not None
    fates = {d: _Fate(inventory.images[d], whole=whole) for d in graph.top_level}
    claims = Claims()
    if policy.lifecycle is not None:
        images = [f.image for f in fates.values()]
        names, rounds, archives = lifecycle_rounds(policy.lifecycle, images, now, claims)
    else:
        rounds = run_rules(policy.rules, [f.image for f in fates.values()], now, claims)
        names = [rule.name for rule in policy.rules]
        archives = [rule.action is RuleAction.ARCHIVE for rule in policy.rules]
    if limits.orphaned_referrers is OrphanedReferrers.DELETE:
        orphans = [inventory.images[d] for d in sorted(graph.orphaned_referrers)]
        verdicts = []
        for cand in select_candidates(Select(), orphans, claims):
            expired = Decision(
                True, f"referrer of absent subject {_absent(graph, cand.image.digest)}"
            )
            untagged = expired if cand.untagged else None
            verdicts.append(Verdict(cand.image.digest, dict.fromkeys(cand.tags, expired), untagged))
        rounds.append(verdicts)
        names.append(ORPHAN_RULE)
        archives.append(False)
    for rank, (name, verdicts) in enumerate(zip(names, rounds, strict=True)):
        for verdict in verdicts:
            fate = fates[verdict.digest]
            for tag, decision in verdict.tags.items():
                fate.tags[tag] = _Ruling(rank, name, decision, archives[rank])
            if verdict.untagged is not None:
                fate.untagged = _Ruling(rank, name, verdict.untagged, archives[rank])
    return fates


def _keep_at_least(
    graph: Graph,
    fates: dict[str, _Fate],
    shielded: set[str],
    floor: int,
    images: Mapping[str, Image],
) -> tuple[list[str], Fallout]:
    """Spare the newest doomed images until `floor` top-level images remain in service.

    A protected dependent of a deleted image survives as a new top-level image, so it
    counts as remaining (else the next run would find fewer to spare and delete more).
    Then deleting more can leave more behind, so the count is not a simple subtraction:
    try sparing one more at a time, up to what the subtraction alone would spare.
    Archived images are neither counted nor spared; archiving counts as removing.
    """
    doomed = sorted(d for d, f in fates.items() if f.doomed)
    doomed.sort(key=lambda d: fates[d].image.pushed_at, reverse=True)  # stable: ties by digest
    serving = [d for d in doomed if in_service(fates[d].image)]
    others = [d for d in doomed if not in_service(fates[d].image)]
    after = fallout(graph, doomed, shielded)
    total = sum(1 for f in fates.values() if in_service(f.image))
    spare = max(0, floor - (total - len(serving)))
    if spare and after.spared:

        def left(k: int) -> int:
            spared = fallout(graph, others + serving[k:], shielded).spared
            return total - len(serving) + k + sum(1 for d in spared if in_service(images[d]))

        spare = next((k for k in range(spare) if left(k) >= floor), spare)
    for digest in serving[:spare]:
        fates[digest].protect([f"protect.keep_at_least {floor}"], set(), untouchable=True)
    if spare:
        after = fallout(graph, others + serving[spare:], shielded)
    return sorted(others + serving[spare:]), after


def _top_level_actions(fates: Mapping[str, _Fate]) -> list[Action]:
    actions = []
    for digest, fate in sorted(fates.items()):
        gone = fate.gone
        if not gone:
            continue
        rule, reason = _explain(gone)
        if fate.doomed:
            kind = ActionKind.ARCHIVE_IMAGE if fate.archived else ActionKind.DELETE_IMAGE
            actions.append(whole_image_action(kind, fate.image, rule, reason))
        else:
            tags = tuple(sorted(t for t, _ in gone if t is not None))
            pushed = fate.image.pushed_at
            kind = ActionKind.REMOVE_TAG
            actions.append(Action(kind, digest, tags, rule, reason, 0, pushed_at=pushed))
    return actions


def _explain(gone: list[tuple[str | None, _Ruling]]) -> tuple[str, str]:
    """The highest-priority rule behind these removals, and one reason covering them all."""
    first = min(r.rank for _, r in gone)
    by_reason: dict[tuple[int, str, str], list[str]] = {}
    for tag, r in gone:
        by_reason.setdefault((r.rank, r.rule, r.decision.reason), []).append(tag or "untagged")
    rule = next(r.rule for _, r in gone if r.rank == first)
    if len(by_reason) == 1:
        return rule, next(iter(by_reason))[2]
    parts = [
        f"{', '.join(tags)}: {reason}" + ("" if name == rule else f" (rule {name})")
        for (_, name, reason), tags in sorted(by_reason.items())
    ]
    return rule, "; ".join(parts)


def _dependent_actions(
    inventory: Inventory, graph: Graph, fates: Mapping[str, _Fate], after: Fallout
) -> list[Action]:
    deleted = {d for d, f in fates.items() if f.doomed} | set(after.dying)
    archived = {d for d, f in fates.items() if f.archived}
    actions = []
    for digest, dep in after.dying.items():  # owners come before what they own
        # The executor deletes a dependent only once all of these are really gone.
        parents = tuple(sorted(o for o in graph.owners.get(digest, ()) if o in deleted))
        image = inventory.images[digest]
        rule, _ = _explain(fates[dep.root].gone)
        kind = dependent_kind(image, parents, archived, deleted)
        if kind is None:
            continue  # archived already, with its archived owner: nothing to do
        verb = "archived" if kind is ActionKind.ARCHIVE_IMAGE else "deleted"
        reason = f"{_naming(dep.kind, dep.parent)} ({verb} by rule {rule})"
        actions.append(
            whole_image_action(kind, image, rule, reason, phase=dep.depth, parents=parents)
        )
    return actions


def _kept(
    fates: Mapping[str, _Fate], graph: Graph, limits: Limits, *, ratio_hold: float | None = None
) -> list[Kept]:
    """Top-level images a rule selected, or orphaned referrers, that stay."""
    kept = []
    for digest, fate in sorted(fates.items()):
        orphan = digest in graph.orphaned_referrers
        if not (fate.selected or orphan):
            continue
        gone = fate.gone
        reasons = list(fate.protections)
        if ratio_hold is not None:
            remaining = set(fate.image.tags)
            if gone:
                doom = "be archived" if fate.archived else "be deleted"
                what = doom if fate.doomed else "lose " + ", ".join(t for t, _ in gone if t)
                hold = f"repository not touched (limits.max_deletion_ratio {ratio_hold})"
                reasons.append(f"{hold}; would {what}: {_explain(gone)[1]}")
        elif fate.doomed:
            continue
        else:
            remaining = set(fate.image.tags) - {t for t, _ in gone}
        rulings = [fate.tags[t] for t in sorted(remaining) if t in fate.tags]
        rulings += [fate.untagged] if fate.untagged else []
        reasons += [r.decision.reason for r in rulings if not r.decision.expired]
        if fate.whole and reasons and ratio_hold is None:
            # Say that ECR's rule would act, and what of ours stops it.
            would = next((r for r in rulings if r.decision.expired), None)
            if would is not None:
                reasons = [kept_reason(would.rule, would.decision.reason, reasons)]
        if orphan and limits.orphaned_referrers is OrphanedReferrers.KEEP:
            reasons.append(
                f"orphaned referrer: subject {_absent(graph, digest)} absent "
                "(limits.orphaned_referrers: keep)"
            )
        unselected = sorted(t for t in remaining if t not in fate.tags)
        if unselected and not reasons:
            reasons.append(f"not selected by any rule: {', '.join(unselected)}")
        reason = "; ".join(dict.fromkeys(reasons)) or "kept"
        image = fate.image
        kept.append(Kept(digest, tuple(sorted(remaining)), reason, image.pushed_at, image.size))
    return kept


def _kept_dependents(inventory: Inventory, guard: Guard, after: Fallout) -> list[Kept]:
    """Protected children and referrers that outlive the images they belonged to."""
    kept = []
    for digest, dep in after.spared.items():
        image = inventory.images[digest]
        reasons = [*guard.reasons(image), f"{_naming(dep.kind, dep.parent)}, which is deleted"]
        tags = tuple(sorted(set(image.tags)))
        kept.append(Kept(digest, tags, "; ".join(reasons), image.pushed_at, image.size))
    return kept


def _naming(kind: EdgeKind, parent: str) -> str:
    return f"child of index {parent}" if kind is EdgeKind.CHILD else f"referrer of {parent}"


def _absent(graph: Graph, digest: str) -> str:
    return ", ".join(graph.orphaned_referrers[digest])
