"""Archiving: which images a plan archives, deletes or keeps once storage classes exist.

Each row would catch the wrong image being archived (or deleted instead of archived).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest

from cleaner.config.model import Expire, Policy, Rule, RuleAction, Select, Storage, TagStatus
from cleaner.core.model import ActionKind, Image, ImageStatus, RepositoryPlan
from cleaner.core.planner import check_max_deletions

from .conftest import NOW, dg, img, limits, num, plan, pol, reasons, rule, sig


def archiving(r: Rule) -> Rule:
    return replace(r, action=RuleAction.ARCHIVE)


def archived(image: Image, days_ago: float = 100) -> Image:
    return replace(image, status=ImageStatus.ARCHIVED, archived_at=NOW - timedelta(days=days_ago))


def in_archive(name: str, status: str = "any", archived_before: float = 90) -> Rule:
    """A rule over archived images: delete those archived more than N days ago."""
    return Rule(
        name,
        Select(TagStatus(status), storage=Storage.ARCHIVED),
        expire=Expire(archived_before=timedelta(days=archived_before)),
    )


ARCHIVE_STALE = archiving(rule("stale", status="tagged", pushed_before=14))
ARCHIVE_UNTAGGED = archiving(rule("untagged", status="untagged", pushed_before=1))
DELETE_STALE = rule("stale", status="tagged", pushed_before=14)
PURGE = in_archive("purge")
PURGE_UNTAGGED = in_archive("purge-untagged", status="untagged")

MULTI_ARCH = [img(10, ["v1"], 30, index=True), img(11, [], 30), img(12, [], 30), img(13, [], 30)]
MULTI_ARCH_CHILDREN = {10: [11, 12, 13]}


@dataclass(frozen=True)
class Fates:
    archived: frozenset[int] = frozenset()
    deleted: frozenset[int] = frozenset()
    removed: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    kept: frozenset[int] = frozenset()


def fates(p: RepositoryPlan) -> Fates:
    def of(kind: ActionKind) -> frozenset[int]:
        return frozenset(num(a.digest) for a in p.actions if a.kind is kind)

    return Fates(
        archived=of(ActionKind.ARCHIVE_IMAGE),
        deleted=of(ActionKind.DELETE_IMAGE),
        removed={num(a.digest): a.tags for a in p.actions if a.kind is ActionKind.REMOVE_TAG},
        kept=frozenset(num(k.digest) for k in p.kept),
    )


def want(
    archived: Iterable[int] = (),
    deleted: Iterable[int] = (),
    removed: Mapping[int, tuple[str, ...]] | None = None,
    kept: Iterable[int] = (),
) -> Fates:
    return Fates(frozenset(archived), frozenset(deleted), dict(removed or {}), frozenset(kept))


CASES = [
    pytest.param(
        [img(1, ["v1"], 30), img(2, ["v2"], 1)],
        {},
        pol(ARCHIVE_STALE),
        None,
        want(archived=[1], kept=[2]),
        id="an expired image is archived, not deleted",
    ),
    pytest.param(
        [img(1, ["feature-1", "v1"], 30), img(2, ["v2"], 1)],
        {},
        pol(archiving(rule("features", status="tagged", tags=["feature-*"], pushed_before=14))),
        None,
        want(removed={1: ("feature-1",)}, kept=[1]),
        id="a tag-level removal stays a tag removal",
    ),
    pytest.param(
        MULTI_ARCH,
        MULTI_ARCH_CHILDREN,
        pol(ARCHIVE_STALE, keep_at_least=0),
        None,
        want(archived=[10, 11, 12, 13]),
        id="children (incl. attestation) are archived with their index",
    ),
    pytest.param(
        [*MULTI_ARCH, img(20, ["v2"], 1, index=True), img(21, [], 1)],
        {**MULTI_ARCH_CHILDREN, 20: [11, 21]},
        pol(ARCHIVE_STALE),
        None,
        want(archived=[10, 12, 13], kept=[20]),
        id="a child shared with a kept index stays active",
    ),
    pytest.param(
        MULTI_ARCH,
        MULTI_ARCH_CHILDREN,
        pol(ARCHIVE_STALE, keep_at_least=0),
        {12: "ecs:prod/api"},
        want(archived=[10, 11, 13], kept=[12]),
        id="a child in use stays active",
    ),
    pytest.param(
        [img(1, ["v1"], 30), img(2, [sig(1)], 30), img(3, ["v3"], 1)],
        {},
        pol(ARCHIVE_STALE),
        None,
        want(archived=[1, 2], kept=[3]),
        id="a signature is archived with its subject",
    ),
    pytest.param(
        [img(1, ["v1", "old"], 30), img(2, ["v2"], 1)],
        {},
        pol(rule("old", status="tagged", tags=["old"], pushed_before=14), ARCHIVE_STALE),
        None,
        want(archived=[1], kept=[2]),
        id="archive wins when a delete rule and an archive rule together expire an image",
    ),
    pytest.param(
        [archived(img(1, ["v1"], 300)), img(2, ["v2"], 1)],
        {},
        pol(DELETE_STALE, keep_at_least=0),
        None,
        want(kept=[2]),
        id="rules see active images only",
    ),
    pytest.param(
        [archived(img(1, ["v1"], 300), 100), archived(img(2, ["v2"], 300), 30), img(3, [], 300)],
        {},
        pol(PURGE, keep_at_least=0),
        None,
        want(deleted=[1], kept=[2]),
        id="archived_before deletes images archived long enough ago, never active ones",
    ),
    pytest.param(
        [archived(img(10, ["v1"], 300, index=True)), archived(img(11, [], 300))],
        {},
        pol(PURGE, keep_at_least=0),
        None,
        want(deleted=[10, 11]),
        id="an archived index is a unit by itself; its archived children are untagged images",
    ),
    pytest.param(
        [archived(img(10, ["v1"], 300, index=True)), archived(img(11, [], 300))],
        {},
        pol(in_archive("tagged-only", status="tagged"), keep_at_least=0),
        None,
        want(deleted=[10]),
        id="the archived children of an archived index need an untagged rule",
    ),
    pytest.param(
        [archived(img(1, ["v1"], 300)), img(2, ["v2"], 1)],
        {},
        pol(PURGE),
        {1: "ecs:prod/api"},
        want(kept=[1]),
        id="an archived image in use is not deleted",
    ),
    pytest.param(
        [replace(img(1, ["v1"], 300), status=ImageStatus.ACTIVATING), img(2, ["v2"], 1)],
        {},
        pol(DELETE_STALE, PURGE, keep_at_least=0),
        None,
        want(kept=[2]),
        id="no rule sees an image being restored",
    ),
    pytest.param(
        [img(10, ["v1"], 30, index=True), archived(img(11, [], 30)), img(12, [], 30)],
        {10: [11, 12]},
        pol(DELETE_STALE, keep_at_least=0),
        None,
        want(deleted=[10, 11, 12]),
        id="an archived child of a deleted index is deleted with it",
    ),
    pytest.param(
        [img(10, ["v1"], 30, index=True), archived(img(11, [], 30)), img(12, [], 30)],
        {10: [11, 12]},
        pol(ARCHIVE_STALE, keep_at_least=0),
        None,
        want(archived=[10, 12]),
        id="an archived child of an archived index needs nothing",
    ),
]


@pytest.mark.parametrize(("images", "children", "policy", "in_use", "expected"), CASES)
def test_what_is_archived(
    images: list[Image],
    children: Mapping[int, list[int]],
    policy: Policy,
    in_use: Mapping[int, str] | None,
    expected: Fates,
) -> None:
    assert fates(plan(images, policy, children=children, in_use=in_use)) == expected


def test_parents_are_archived_before_their_children() -> None:
    p = plan(MULTI_ARCH, pol(ARCHIVE_STALE, keep_at_least=0), children=MULTI_ARCH_CHILDREN)
    phases = {num(a.digest): (a.phase, a.parents) for a in p.actions}
    assert phases[10] == (0, ())
    assert all(phases[c] == (1, (dg(10),)) for c in (11, 12, 13))
    assert reasons(p)[11] == f"child of index {dg(10)} (archived by rule stale)"


def test_archived_indexes_are_deleted_before_everything_else() -> None:
    images = [
        archived(img(10, ["v1"], 300, index=True)),
        archived(img(11, [], 300)),
        archived(img(20, ["v2"], 300)),
    ]
    p = plan(images, pol(PURGE, PURGE_UNTAGGED, keep_at_least=0))
    assert {num(a.digest): a.phase for a in p.actions} == {10: 0, 11: 1, 20: 1}


def test_actions_carry_what_the_inventory_saw() -> None:
    pulled = img(1, ["v1"], 30, 20)
    p = plan([pulled, archived(img(2, ["v2"], 300))], pol(ARCHIVE_STALE, PURGE, keep_at_least=0))
    seen = {num(a.digest): (a.seen_status, a.seen_pulled) for a in p.actions}
    assert seen == {1: (ImageStatus.ACTIVE, pulled.last_pulled), 2: (ImageStatus.ARCHIVED, None)}


@pytest.mark.parametrize(
    ("images", "policy", "expected"),
    [
        pytest.param(
            [img(1, ["v1"], 30), img(2, ["v2"], 20), *(archived(img(n, [], 300)) for n in (5, 6))],
            pol(ARCHIVE_STALE, keep_at_least=1),
            want(archived=[1], kept=[2]),
            id="archived images do not count as remaining in service",
        ),
        pytest.param(
            [archived(img(n, [f"v{n}"], 300)) for n in (1, 2, 3)],
            pol(PURGE, keep_at_least=1),
            want(deleted=[1, 2, 3]),
            id="archived images are not spared",
        ),
        pytest.param(
            [img(1, ["v1"], 30), img(2, ["v2"], 20), img(3, ["v3"], 1)],
            pol(ARCHIVE_STALE, keep_at_least=2),
            want(archived=[1], kept=[2, 3]),
            id="archiving counts as removing",
        ),
    ],
)
def test_keep_at_least_counts_images_in_service(
    images: list[Image], policy: Policy, expected: Fates
) -> None:
    assert fates(plan(images, policy)) == expected


@pytest.mark.parametrize(
    ("images", "policy", "error"),
    [
        pytest.param(
            [img(1, ["v1"], 30), img(2, ["v2"], 30), img(3, ["v3"], 1)],
            pol(ARCHIVE_STALE),
            "not touched: the plan would delete or archive 2 of 3 top-level images (67%), "
            "above limits.max_deletion_ratio 0.5",
            id="archiving counts toward the ratio",
        ),
        pytest.param(
            [img(1, ["v1"], 1), *(archived(img(n, [f"v{n}"], 300)) for n in (5, 6, 7))],
            pol(PURGE),
            "not touched: the plan would delete 3 of 3 archived top-level images (100%), "
            "above limits.max_deletion_ratio 0.5",
            id="archived images have a ratio of their own",
        ),
    ],
)
def test_max_deletion_ratio_per_storage_class(
    images: list[Image], policy: Policy, error: str
) -> None:
    p = plan(images, policy, lim=limits(ratio=0.5))
    assert (p.error, p.actions) == (error, ())


def test_an_archived_image_in_use_is_a_warning() -> None:
    images = [archived(img(1, ["v1"], 300)), img(2, ["v2"], 1)]
    p = plan(images, pol(PURGE), in_use={1: "ecs:prod/api", 2: "ecs:prod/web"})
    assert p.warnings == (
        f"team-a/api: archived image {dg(1)} (v1) is in use by ecs:prod/api: it cannot be "
        "pulled; restore it with: ecr-cleaner restore --config FILE --region us-east-1 "
        f"--repository team-a/api --digest {dg(1)}",
    )
    assert "in use by ecs:prod/api" in reasons(p)[1]


def test_max_deletions_counts_archives() -> None:
    p = plan([img(n, [f"v{n}"], 30) for n in range(1, 4)], pol(ARCHIVE_STALE, keep_at_least=0))
    assert check_max_deletions([p], limits(max_deletions=3)) is None
    assert check_max_deletions([p], limits(max_deletions=2)) == (
        "the plan would delete 0 images, archive 3 images and remove 0 tags (3 in total), "
        "above limits.max_deletions 2"
    )


def test_archived_before_reasons() -> None:
    images = [archived(img(1, ["v1"], 300), 100), archived(img(2, ["v2"], 300), 30)]
    r = reasons(plan(images, pol(PURGE, keep_at_least=0)))
    assert r == {1: "archived 100d ago", 2: "archived 30d ago (archived_before 90d not met)"}
