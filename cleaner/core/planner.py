"""Rules + protections + limits -> one repository's plan, every decision with its reason.

What it means: docs/semantics.md; what it records: docs/report.md. Pure: `now` and the
in-use map are passed in; no AWS, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import islice
from operator import attrgetter

from cleaner.config.model import Limits, OrphanedReferrers, Policy, RuleAction, Select
from cleaner.core.fates import Fate, Ruling, explain
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
_ACTION_ORDER = attrgetter("phase", "kind", "digest")
_BY_DIGEST = attrgetter("digest")


def plan_repository(
    inventory: Inventory,
    policy: Policy,
    limits: Limits,
    now: datetime,
    *,
    in_use: Mapping[str, str] | None = None,
) -> RepositoryPlan:
    """Plan one repository. `in_use` maps a digest to the workload that uses it."""
    in_use = in_use or {}
    graph = build_graph(inventory)
    guard = Guard(policy.protect, in_use, now)
    fates = _apply_rules(inventory, graph, policy, limits, now)
    for fate in fates.values():
        if not guard.shields(fate.image):
            fate.settle()  # no protection holds
            continue
        untouchable = guard.untouchable(fate.image)
        protected = guard.protected_tags(fate.image)
        reasons = untouchable + [f"protected tag {t}" for t in protected]
        fate.protect(reasons, frozenset(protected), bool(untouchable))
    # The protected images below the top level (those graph.owners holds).
    shielded = {d for d in graph.owners if guard.shields(inventory.images[d])}
    floor = policy.protect.keep_at_least
    doomed, after = _keep_at_least(graph, fates, shielded, floor, inventory.images)
    warnings = archived_in_use(inventory, in_use)
    ratio = limits.max_deletion_ratio
    archived = {d for d in doomed if fates[d].archived}
    top_level = (inventory.images[d] for d in graph.top_level)
    error = ratio_error(top_level, set(doomed), archived, ratio)
    if error is not None:
        held = tuple(sorted(_kept(fates, graph, limits, ratio_hold=ratio), key=_BY_DIGEST))
        return RepositoryPlan(
            inventory.repository,
            policy.name,
            len(inventory.images),
            kept=held,
            error=error,
            warnings=warnings,
        )
    actions = _top_level_actions(fates)
    actions += _dependent_actions(inventory, graph, fates, after, set(doomed), archived)
    kept = _kept(fates, graph, limits) + _kept_dependents(inventory, guard, after)
    actions = archived_indexes_first(actions, inventory.images)
    actions.sort(key=_ACTION_ORDER)
    kept.sort(key=_BY_DIGEST)
    return RepositoryPlan(
        inventory.repository,
        policy.name,
        len(inventory.images),
        actions=tuple(actions),
        kept=tuple(kept),
        warnings=warnings,
    )


def _apply_rules(
    inventory: Inventory, graph: Graph, policy: Policy, limits: Limits, now: datetime
) -> dict[str, Fate]:
    """Run the rules (and the orphaned-referrers pseudo-rule) over the top-level images:
    the fate of each image a rule selected, and of each orphaned referrer. Only these
    can change or be listed; the other top-level images simply stay."""
    images = [inventory.images[d] for d in graph.top_level]
    claims = Claims()
    if policy.lifecycle is not None:
        names, rounds, archives = lifecycle_rounds(policy.lifecycle, images, now, claims)
    else:
        rounds = run_rules(policy.rules, images, now, claims)
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
    whole = policy.lifecycle is not None
    fates: dict[str, Fate] = {}
    for rank, (name, verdicts) in enumerate(zip(names, rounds, strict=True)):
        archive = archives[rank]
        for verdict in verdicts:
            fate = fates.get(verdict.digest)
            if fate is None:
                fate = fates[verdict.digest] = Fate(inventory.images[verdict.digest], whole=whole)
            for tag, decision in verdict.tags.items():
                fate.tags[tag] = Ruling(rank, name, decision, archive)
                fate.selected = True
            if verdict.untagged is not None:
                fate.untagged = Ruling(rank, name, verdict.untagged, archive)
                fate.selected = True
    for digest in graph.orphaned_referrers:  # listed even if no rule selected them
        if digest not in fates:
            fates[digest] = Fate(inventory.images[digest], whole=whole)
    return fates


def _keep_at_least(
    graph: Graph,
    fates: dict[str, Fate],
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
    serving: list[str] = []
    others: list[str] = []
    for digest in doomed:
        (serving if in_service(fates[digest].image) else others).append(digest)
    after = fallout(graph, doomed, shielded)
    # The top-level images that stay in service, counted only up to `floor`: beyond it,
    # nothing is spared; below it, the count is exact.
    staying = (images[d] for d in graph.top_level if d not in fates or not fates[d].doomed)
    remaining = sum(1 for _ in islice(filter(in_service, staying), floor))
    spare = floor - remaining
    if spare and after.spared:

        def left(k: int) -> int:
            spared = fallout(graph, others + serving[k:], shielded).spared
            return remaining + k + sum(1 for d in spared if in_service(images[d]))

        spare = next((k for k in range(spare) if left(k) >= floor), spare)
    for digest in serving[:spare]:
        fates[digest].protect([f"protect.keep_at_least {floor}"], frozenset(), untouchable=True)
    if spare:
        after = fallout(graph, others + serving[spare:], shielded)
    return sorted(others + serving[spare:]), after


def _top_level_actions(fates: Mapping[str, Fate]) -> list[Action]:
    actions = []
    for digest, fate in fates.items():
        gone = fate.gone
        if not gone:
            continue
        rule, reason = explain(gone)
        if fate.doomed:
            kind = ActionKind.ARCHIVE_IMAGE if fate.archived else ActionKind.DELETE_IMAGE
            actions.append(whole_image_action(kind, fate.image, rule, reason))
        else:
            tags = tuple(sorted(t for t, _ in gone if t is not None))
            pushed = fate.image.pushed_at
            kind = ActionKind.REMOVE_TAG
            actions.append(Action(kind, digest, tags, rule, reason, 0, pushed_at=pushed))
    return actions


def _dependent_actions(
    inventory: Inventory,
    graph: Graph,
    fates: Mapping[str, Fate],
    after: Fallout,
    doomed: set[str],
    archived: set[str],
) -> list[Action]:
    deleted = doomed | after.dying.keys()
    archived = set(archived)  # dependent_kind adds to it
    rules: dict[str, str] = {}  # root -> the rule its dependents are removed by
    actions = []
    for digest, dep in after.dying.items():  # owners come before what they own
        # The executor deletes a dependent only once all of these are really gone.
        parents = tuple(filter(deleted.__contains__, graph.owners[digest]))  # sorted already
        image = inventory.images[digest]
        rule = rules.get(dep.root)
        if rule is None:
            rule = rules[dep.root] = explain(fates[dep.root].gone)[0]
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
    fates: Mapping[str, Fate], graph: Graph, limits: Limits, *, ratio_hold: float | None = None
) -> list[Kept]:
    """Top-level images a rule selected, or orphaned referrers, that stay."""
    kept = []
    for digest, fate in fates.items():
        if fate.doomed and ratio_hold is None:
            continue
        orphan = digest in graph.orphaned_referrers
        gone, image = fate.gone, fate.image
        reasons = list(fate.protections)
        if ratio_hold is not None and gone:
            doom = "be archived" if fate.archived else "be deleted"
            what = doom if fate.doomed else "lose " + ", ".join(t for t, _ in gone if t)
            hold = f"repository not touched (limits.max_deletion_ratio {ratio_hold})"
            reasons.append(f"{hold}; would {what}: {explain(gone)[1]}")
        if ratio_hold is None and gone:
            tags = sorted(set(image.tags) - {t for t, _ in gone})
        else:  # nothing goes (or the ratio holds it all): every tag remains
            tags = list(image.tags) if len(image.tags) < 2 else sorted(set(image.tags))
        rulings = [fate.tags[t] for t in tags if t in fate.tags]
        if fate.untagged is not None:
            rulings.append(fate.untagged)
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
        if not reasons:
            unselected = [t for t in tags if t not in fate.tags]
            if unselected:
                reasons.append(f"not selected by any rule: {', '.join(unselected)}")
        reason = reasons[0] if len(reasons) == 1 else "; ".join(dict.fromkeys(reasons))
        kept.append(Kept(digest, tuple(tags), reason or "kept", image.pushed_at, image.size))
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
