"""Properties over random repositories and policies (hypothesis)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cleaner.config.model import (
    Expire,
    Keep,
    Limits,
    NamePatterns,
    OrderBy,
    OrphanedReferrers,
    Policy,
    Protect,
    Rule,
    Select,
    TagPattern,
    TagStatus,
)
from cleaner.core.graph import build_graph
from cleaner.core.model import ActionKind, Image, Inventory, RepositoryPlan
from cleaner.core.planner import plan_repository
from cleaner.core.rules import semver_key

from .conftest import INDEX, MANIFEST, NOW, REPO, dg, sig

pytestmark = pytest.mark.slow  # property tests at full size: ~2 s each

TAG_POOL = [
    "a", "b", "latest", "v1.0.0", "v1.2.0", "2.0.0-rc.1", "2.0.0", "1.10.0",
    "feature-x-1", "feature-x-2", "feature-y-1", "pr-1", "pr-2",
]  # fmt: skip
SELECT_PATTERNS = ["feature-*", r"re:pr-\d+", "v*", "*", "latest", "a", "sha256-*"]
GROUP_BY = [r"^feature-([a-z])-", r"^v?(\d+)\.", "^[a-z]+", r"(x)?-\d"]
PROTECT_PATTERNS = ["latest", r"re:v\d+\.\d+\.\d+", "sha256-*"]
ABSENT = 1000  # digests from here on are never in the repository

Item = tuple[str, str | None]  # (digest, tag), or (digest, None) for an untagged image
hours = st.integers(0, 24 * 60).map(lambda h: timedelta(hours=h))


@dataclass(frozen=True)
class Case:
    inventory: Inventory
    in_use: dict[str, str]
    tagged_dependents: bool  # some child or referrer carries a tag other than a cosign one


@st.composite
def repositories(draw: st.DrawFn) -> Case:
    n = draw(st.integers(1, 10))
    children: dict[str, tuple[str, ...]] = {}
    subjects: dict[int, int] = {}
    cosign: dict[int, int] = {}
    for k in range(1, n + 1):
        kind = draw(st.sampled_from(["plain", "plain", "index", "oci", "cosign"]))
        # Owners always have lower numbers than what they own, so the graph has no cycles.
        if kind == "index" and k < n:
            kids = draw(st.lists(st.integers(k + 1, n), max_size=3, unique=True))
            children[dg(k)] = tuple(dg(c) for c in kids)
        elif kind in ("oci", "cosign"):
            subject = draw(st.integers(1, k - 1) if k > 1 else st.just(ABSENT + k))
            if draw(st.booleans()):
                subject = ABSENT + k  # orphan
            (subjects if kind == "oci" else cosign)[k] = subject
    owned = {c for kids in children.values() for c in kids} | {dg(k) for k in subjects}
    owned |= {dg(k) for k in cosign}
    tagged_children = draw(st.booleans())
    tags: dict[int, list[str]] = {k: [] for k in range(1, n + 1)}
    for tag in TAG_POOL:
        owner = draw(st.integers(0, n))  # 0: the tag is not in the repository
        if owner and (tagged_children or dg(owner) not in owned):
            tags[owner].append(tag)
    for k, subject in cosign.items():
        tags[k].append(sig(subject, draw(st.sampled_from(["sig", "att", "sbom"]))))
    images = {}
    for k in range(1, n + 1):
        pushed = draw(hours)
        pulled = draw(st.one_of(st.none(), st.integers(0, pushed // timedelta(hours=1))))
        images[dg(k)] = Image(
            digest=dg(k),
            tags=tuple(tags[k]),
            pushed_at=NOW - pushed,
            last_pulled=None if pulled is None else NOW - timedelta(hours=pulled),
            size=k,
            media_type=INDEX if dg(k) in children else MANIFEST,
            subject=dg(subjects[k]) if k in subjects else None,
        )
    in_use = {dg(k): f"ecs:svc-{k}" for k in draw(st.sets(st.integers(1, n), max_size=2))}
    tagged_dependents = any(t for d in owned for t in images[d].tags if not t.startswith("sha256-"))
    return Case(Inventory(REPO, images, children), in_use, tagged_dependents)


@st.composite
def rules(draw: st.DrawFn, with_keep: bool = True) -> Rule:
    status = draw(st.sampled_from(list(TagStatus)))
    patterns = None
    if status is not TagStatus.UNTAGGED and draw(st.booleans()):
        texts = draw(st.lists(st.sampled_from(SELECT_PATTERNS), min_size=1, max_size=2))
        patterns = tuple(TagPattern.parse(t) for t in texts)
    keep = None
    if with_keep and draw(st.booleans()):
        group = draw(st.one_of(st.none(), st.sampled_from(GROUP_BY)))
        keep = Keep(
            draw(st.integers(1, 3)),
            draw(st.sampled_from(list(OrderBy))),
            None if group is None else TagPattern(group, re.compile(group)),
        )
    expire = None
    if keep is None or draw(st.booleans()):
        pushed_before = draw(st.one_of(st.none(), hours))
        not_pulled_for = draw(st.one_of(st.none(), hours))
        if pushed_before is None and not_pulled_for is None:
            pushed_before = draw(hours)
        expire = Expire(pushed_before, not_pulled_for)
    name = draw(st.text("abcdef", min_size=1, max_size=4))
    return Rule(name, Select(status, patterns), keep, expire)


@st.composite
def policies(draw: st.DrawFn, with_keep: bool = True) -> tuple[Policy, Limits]:
    protect = Protect(
        tags=tuple(TagPattern.parse(t) for t in draw(st.lists(st.sampled_from(PROTECT_PATTERNS)))),
        pulled_within=draw(st.one_of(st.none(), hours)),
        keep_at_least=draw(st.one_of(st.just(0), st.integers(1, 6))),
    )
    rule_list = tuple(draw(st.lists(rules(with_keep), min_size=1, max_size=3)))
    limits = Limits(
        max_deletion_ratio=draw(st.sampled_from([1.0, 0.9, 0.5])),
        orphaned_referrers=draw(st.sampled_from(list(OrphanedReferrers))),
    )
    return Policy("random", NamePatterns(), protect, rule_list), limits


def run(case: Case, policy: Policy, limits: Limits) -> RepositoryPlan:
    return plan_repository(case.inventory, policy, limits, NOW, in_use=case.in_use)


def deleted(p: RepositoryPlan) -> set[str]:
    return {a.digest for a in p.actions if a.kind is ActionKind.DELETE_IMAGE}


def removed(p: RepositoryPlan) -> dict[str, set[str]]:
    return {a.digest: set(a.tags) for a in p.actions if a.kind is ActionKind.REMOVE_TAG}


def apply(inventory: Inventory, p: RepositoryPlan) -> Inventory:
    gone, lost = deleted(p), removed(p)
    images = {
        d: replace(i, tags=tuple(t for t in i.tags if t not in lost.get(d, set())))
        for d, i in inventory.images.items()
        if d not in gone
    }
    children = {
        i: tuple(c for c in kids if c not in gone)
        for i, kids in inventory.index_children.items()
        if i not in gone
    }
    return Inventory(inventory.repository, images, children)


SETTINGS = settings(max_examples=200, deadline=None)


@SETTINGS
@given(repositories(), policies())
def test_actions_name_what_the_inventory_holds(case: Case, pl: tuple[Policy, Limits]) -> None:
    p = run(case, *pl)
    images = case.inventory.images
    assert deleted(p) <= images.keys()
    for digest, tags in removed(p).items():
        assert tags and tags <= set(images[digest].tags)
    assert len(p.actions) == len({a.digest for a in p.actions})
    assert not {k.digest for k in p.kept} & deleted(p)


@SETTINGS
@given(repositories(), policies())
def test_protected_tags_and_their_images_stay(case: Case, pl: tuple[Policy, Limits]) -> None:
    policy, _ = pl
    p = run(case, *pl)
    for digest, image in case.inventory.images.items():
        guarded = {t for t in image.tags if any(pt.matches(t) for pt in policy.protect.tags)}
        if guarded:
            assert digest not in deleted(p)
            assert not guarded & removed(p).get(digest, set())
    for digest in case.in_use:
        assert digest not in deleted(p) and digest not in removed(p)


@SETTINGS
@given(repositories(), policies())
def test_nothing_owned_by_a_kept_image_is_deleted(case: Case, pl: tuple[Policy, Limits]) -> None:
    p = run(case, *pl)
    graph = build_graph(case.inventory)
    phase = {a.digest: a.phase for a in p.actions}
    for digest in deleted(p):
        for owner in graph.owners.get(digest, ()):
            assert owner in deleted(p)
            assert phase[owner] < phase[digest]


def keep_oracle(case: Case, policy: Policy) -> set[Item]:
    """(digest, tag or None) that each rule's keep must keep: docs/semantics.md#keep,
    written out again."""
    images = case.inventory.images
    top = build_graph(case.inventory).top_level
    claimed: set[Item] = set()
    must_keep: set[Item] = set()
    for rule in policy.rules:
        status, patterns = rule.select.tag_status, rule.select.tags
        items: list[Item] = []
        for d in top:
            if not images[d].tags and status is not TagStatus.TAGGED:
                items.append((d, None))
            elif status is not TagStatus.UNTAGGED:
                items += [
                    (d, t)
                    for t in images[d].tags
                    if patterns is None or any(pt.matches(t) for pt in patterns)
                ]
        items = [i for i in items if i not in claimed]
        claimed.update(items)
        if rule.keep is None:
            continue
        groups: dict[str | None, list[Item]] = {}
        for d, t in items:
            groups.setdefault(group_of(rule.keep, t), []).append((d, t))
        for members in groups.values():
            digests = sorted({d for d, _ in members}, key=order(rule.keep, images, members))
            best = set(digests[: rule.keep.most_recent])
            must_keep.update(m for m in members if m[0] in best)
    return must_keep


def group_of(keep: Keep, tag: str | None) -> str | None:
    if keep.group_by is None:
        return None
    m = keep.group_by.regex.search(tag) if tag is not None else None
    if m is None:
        return "\0unmatched"
    first = m.group(1) if m.re.groups else None
    return m.group(0) if first is None else first


def order(
    keep: Keep, images: Mapping[str, Image], members: list[Item]
) -> Callable[[str], tuple[object, ...]]:
    """Newest first, ties by digest."""
    versions = {t: semver_key(t) for _, t in members if t is not None}
    ranked = sorted({v for v in versions.values() if v is not None}, reverse=True)

    def key(d: str) -> tuple[object, ...]:
        image = images[d]
        if keep.order_by is OrderBy.PULLED:
            return (-(image.last_pulled or image.pushed_at).timestamp(), d)
        if keep.order_by is OrderBy.SEMVER:
            own = [v for dd, t in members if dd == d and t and (v := versions[t]) is not None]
            if own:
                return (0, ranked.index(max(own)), d)
            return (1, -image.pushed_at.timestamp(), d)
        return (-image.pushed_at.timestamp(), d)

    return key


@SETTINGS
@given(repositories(), policies())
def test_keep_keeps_the_newest_candidates(case: Case, pl: tuple[Policy, Limits]) -> None:
    p = run(case, *pl)
    for digest, tag in keep_oracle(case, pl[0]):
        assert digest not in deleted(p)
        assert tag is None or tag not in removed(p).get(digest, set())


@SETTINGS
@given(repositories(), policies(with_keep=False))
def test_planning_the_result_again_deletes_nothing(case: Case, pl: tuple[Policy, Limits]) -> None:
    # A tagged child saved only by a protected tag becomes top-level and loses its other
    # tags the next time: by design (rules never see children), so leave that case out.
    assume(not case.tagged_dependents)
    p = run(case, *pl)
    again = run(replace(case, inventory=apply(case.inventory, p)), *pl)
    assert again.actions == ()


@SETTINGS
@given(repositories(), policies(), st.randoms(use_true_random=False))
def test_plans_do_not_depend_on_dict_order(
    case: Case,
    pl: tuple[Policy, Limits],
    rnd: random.Random,
) -> None:
    inv = case.inventory
    digests = list(inv.images)
    rnd.shuffle(digests)
    indexes = list(inv.index_children)
    rnd.shuffle(indexes)
    shuffled = Inventory(
        inv.repository,
        {d: inv.images[d] for d in digests},
        {i: inv.index_children[i] for i in indexes},
    )
    in_use = dict(reversed(case.in_use.items()))
    assert run(replace(case, inventory=shuffled, in_use=in_use), *pl) == run(case, *pl)
