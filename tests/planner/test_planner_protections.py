"""Protections and limits override rules (docs/semantics.md#protections); each kept
item says why."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from cleaner.config.model import Limits, Policy
from cleaner.core.model import Action, ActionKind, Image, Kept, RepositoryPlan
from cleaner.core.planner import check_max_deletions

from .conftest import (
    REPO,
    Outcome,
    dg,
    expect,
    img,
    limits,
    num,
    outcome,
    plan,
    pol,
    reasons,
    rule,
    sig,
)

EXPIRE_ALL = rule("stale", pushed_before=14)
OLD = [img(n, [f"t{n}"], pushed_days_ago=10 * n + 10) for n in range(1, 6)]  # 20d ... 60d


@pytest.mark.parametrize(
    ("images", "policy", "in_use", "expected", "why"),
    [
        pytest.param(
            [img(1, ["latest", "old"], 30), img(2, ["old2"], 30)],
            pol(EXPIRE_ALL, protect=["latest"]),
            None,
            expect(deleted=[2], removed={1: ("old",)}, kept=[1]),
            {1: "pushed 30d ago"},  # the remove_tag action's reason
            id="protect.tags: other tags still go",
        ),
        pytest.param(
            [img(1, ["v1.2.0"], 30), img(2, ["v1.2"], 30)],
            pol(EXPIRE_ALL, protect=[r"re:v\d+\.\d+\.\d+"]),
            None,
            expect(deleted=[2], kept=[1]),
            {1: "protected tag v1.2.0"},
            id="protect.tags re:",
        ),
        pytest.param(
            [img(1, ["a", "b"], 30, 2), img(2, ["c"], 30, 20)],
            pol(EXPIRE_ALL, pulled_within=14),
            None,
            expect(deleted=[2], kept=[1]),
            {1: "pulled 2d ago (protect.pulled_within 14d)"},
            id="pulled_within: no tag removed",
        ),
        pytest.param(
            [img(1, ["a"], 30, 2)],
            pol(rule(keep=1), pulled_within=14),
            None,
            expect(kept=[1]),
            {1: "pulled 2d ago (protect.pulled_within 14d); within 1 most recent (by push time)"},
            id="protection reason first, then the rule's",
        ),
        pytest.param(
            OLD,
            pol(EXPIRE_ALL, keep_at_least=3),
            None,
            expect(deleted=[4, 5], kept=[1, 2, 3]),
            {1: "protect.keep_at_least 3", 4: "pushed 50d ago"},
            id="keep_at_least spares the newest",
        ),
        pytest.param(
            [*OLD[:3], img(6, ["keep-me"], 1), img(7, [], 1)],
            pol(rule(status="tagged", tags=["t*"], pushed_before=14), keep_at_least=3),
            None,
            expect(deleted=[2, 3], kept=[1]),
            {1: "protect.keep_at_least 3"},
            id="keep_at_least counts every top-level image",
        ),
        pytest.param(
            [img(3, ["c"], 30), img(1, ["a"], 30), img(2, ["b"], 30)],
            pol(EXPIRE_ALL, keep_at_least=1),
            None,
            expect(deleted=[2, 3], kept=[1]),
            {},
            id="keep_at_least ties by digest",
        ),
        pytest.param(
            OLD[:2],
            pol(EXPIRE_ALL, keep_at_least=3),
            None,
            expect(kept=[1, 2]),
            {},
            id="keep_at_least above the repository size",
        ),
        pytest.param(
            OLD,
            pol(EXPIRE_ALL),
            None,
            expect(deleted=[2, 3, 4, 5], kept=[1]),
            {1: "protect.keep_at_least 1", 2: "pushed 30d ago"},
            id="keep_at_least omitted: the newest top-level image stays",
        ),
        pytest.param(
            [*OLD[:2], img(6, [], 40), img(7, [sig(1)], 20)],
            pol(EXPIRE_ALL),
            None,
            expect(deleted=[2, 6], kept=[1]),
            {1: "protect.keep_at_least 1", 6: "pushed 40d ago"},
            id="keep_at_least omitted: its signature stays with the newest",
        ),
        pytest.param(
            OLD,
            pol(EXPIRE_ALL, keep_at_least=0),
            None,
            expect(deleted=[1, 2, 3, 4, 5]),
            {1: "pushed 20d ago"},
            id="keep_at_least 0 empties the repository",
        ),
        pytest.param(
            OLD[:2],
            pol(EXPIRE_ALL),
            {1: "ecs:prod/api"},
            expect(deleted=[2], kept=[1]),
            {1: "in use by ecs:prod/api"},
            id="in_use",
        ),
    ],
)
def test_protections(
    images: list[Image],
    policy: Policy,
    in_use: Mapping[int, str] | None,
    expected: Outcome,
    why: dict[int, str],
) -> None:
    p = plan(images, policy, in_use=in_use)
    assert outcome(p) == expected
    assert {n: reasons(p)[n] for n in why} == why


def test_kept_lists_the_tags_that_stay() -> None:
    p = plan(
        [img(1, ["latest", "old", "other"], 30)],
        pol(rule(tags=["old", "latest"], pushed_before=14), protect=["latest"]),
    )
    assert p.kept == (Kept(dg(1), ("latest", "other"), "protected tag latest"),)
    assert p.actions == (Action(ActionKind.REMOVE_TAG, dg(1), ("old",), "r", "pushed 30d ago", 0),)


def test_max_deletion_ratio_leaves_the_repository_untouched() -> None:
    images = [img(n, [f"t{n}"], 30) for n in range(1, 20)] + [img(20, ["latest"], 1)]
    p = plan(images, pol(EXPIRE_ALL), lim=limits(ratio=0.9))
    assert p.actions == ()
    assert p.error == (
        "not touched: the plan would delete 19 of 20 top-level images (95%), "
        "above limits.max_deletion_ratio 0.9"
    )
    assert not p.failed
    assert {k.digest for k in p.kept} == {dg(n) for n in range(1, 21)}
    assert reasons(p)[1] == (
        "repository not touched (limits.max_deletion_ratio 0.9); would be deleted: pushed 30d ago"
    )


@pytest.mark.parametrize(("ratio", "touched"), [(0.75, True), (0.74, False), (1.0, True)])
def test_max_deletion_ratio_boundary(ratio: float, touched: bool) -> None:
    p = plan([*OLD[:3], img(9, ["new"], 1)], pol(EXPIRE_ALL), lim=limits(ratio=ratio))
    assert outcome(p).deleted == (frozenset({1, 2, 3}) if touched else frozenset())
    assert (p.error is None) is touched


def test_max_deletion_ratio_counts_after_protections() -> None:
    p = plan(OLD[:2], pol(EXPIRE_ALL, protect=["t1"]), lim=limits(ratio=0.5))
    assert outcome(p) == expect(deleted=[2], kept=[1])


def deletions(images: int, tags: int) -> RepositoryPlan:
    actions = [Action(ActionKind.DELETE_IMAGE, dg(n), (), "r", "", 0) for n in range(images)]
    if tags:
        removed = tuple(f"t{n}" for n in range(tags))
        actions.append(Action(ActionKind.REMOVE_TAG, dg(999), removed, "r", "", 0))
    return RepositoryPlan(REPO, "p", 10, tuple(actions))


def test_check_max_deletions() -> None:
    lim = Limits(max_deletions=5)
    assert check_max_deletions([deletions(3, 2)], lim) is None
    assert check_max_deletions([deletions(3, 0), deletions(1, 2)], lim) == (
        "the plan would delete 4 images and remove 2 tags (6 in total), "
        "above limits.max_deletions 5"
    )
    assert check_max_deletions([], lim) is None


@pytest.mark.parametrize(
    ("orphans", "in_use", "expected", "why"),
    [
        pytest.param(
            "keep",
            None,
            expect(kept=[1, 2, 3]),
            {
                2: f"orphaned referrer: subject {dg(7)} absent (limits.orphaned_referrers: keep)",
            },
            id="keep",
        ),
        pytest.param(
            "delete",
            None,
            expect(deleted=[2, 3], kept=[1]),
            {2: f"referrer of absent subject {dg(7)}", 3: f"referrer of absent subject {dg(8)}"},
            id="delete",
        ),
        pytest.param(
            "delete",
            {3: "lambda:verify"},
            expect(deleted=[2], kept=[1, 3]),
            {3: "in use by lambda:verify"},
            id="delete, but in use",
        ),
    ],
)
def test_orphaned_referrers(
    orphans: str, in_use: Mapping[int, str] | None, expected: Outcome, why: dict[int, str]
) -> None:
    images = [img(1, ["v1"], 1), img(2, [sig(7)], 1), img(3, [], 1, subject=8)]
    p = plan(
        images,
        pol(rule(status="tagged", tags=["v*"], pushed_before=30)),
        lim=limits(orphans=orphans),
        in_use=in_use,
    )
    assert outcome(p) == expected
    assert {n: reasons(p)[n] for n in why} == why
    assert {a.rule for a in p.actions} <= {"orphaned-referrers"}


def test_policy_rules_see_orphans_before_the_orphaned_referrers_rule() -> None:
    # 2 and 3 are selected (and 3 kept) by "old": only 4, unselected, is left to the pseudo-rule.
    images = [img(2, [], 40, subject=8), img(3, [], 1, subject=9), img(4, [sig(9)], 1)]
    p = plan(
        images, pol(rule("old", status="untagged", pushed_before=30)), lim=limits(orphans="delete")
    )
    assert [(num(a.digest), a.rule) for a in p.actions] == [(2, "old"), (4, "orphaned-referrers")]
    assert p.kept == (Kept(dg(3), (), "pushed 1d ago (pushed_before 30d not met)"),)
