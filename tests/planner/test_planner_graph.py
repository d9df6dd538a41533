"""Multi-arch indexes, signatures and referrers share the fate of what they belong to."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from cleaner.config.model import Policy
from cleaner.core.model import Action, ActionKind, Image, Kept

from .conftest import Outcome, dg, expect, img, limits, num, outcome, plan, pol, reasons, rule, sig

UNTAGGED = rule("untagged", status="untagged", pushed_before=1)
TAGGED = rule("stale", status="tagged", pushed_before=14)

# index 10 (tag v1, old) -> platform images 11, 12 and a buildx attestation manifest 13
MULTI_ARCH = [img(10, ["v1"], 30, index=True), img(11, [], 30), img(12, [], 30), img(13, [], 30)]
MULTI_ARCH_CHILDREN = {10: [11, 12, 13]}


@pytest.mark.parametrize(
    ("images", "children", "policy", "in_use", "expected"),
    [
        pytest.param(
            MULTI_ARCH,
            MULTI_ARCH_CHILDREN,
            pol(UNTAGGED),
            None,
            expect(),
            id="untagged rule does not touch live children",
        ),
        pytest.param(
            MULTI_ARCH,
            MULTI_ARCH_CHILDREN,
            pol(TAGGED, keep_at_least=0),
            None,
            expect(deleted=[10, 11, 12, 13]),
            id="children (incl. attestation) follow the index",
        ),
        pytest.param(
            [*MULTI_ARCH, img(20, ["v2"], 1, index=True), img(21, [], 1)],
            {**MULTI_ARCH_CHILDREN, 20: [11, 21]},
            pol(TAGGED),
            None,
            expect(deleted=[10, 12, 13], kept=[20]),
            id="a child shared with a kept index survives",
        ),
        pytest.param(
            MULTI_ARCH,
            MULTI_ARCH_CHILDREN,
            pol(TAGGED),
            {12: "ecs:prod/api"},
            expect(deleted=[10, 11, 13], kept=[12]),
            id="a child in use survives its index",
        ),
        pytest.param(
            MULTI_ARCH,
            MULTI_ARCH_CHILDREN,
            pol(TAGGED, protect=["v1"]),
            None,
            expect(kept=[10]),
            id="children of a protected index are kept",
        ),
        pytest.param(
            [img(1, ["v1"], 30), img(2, [sig(1)], 30), img(3, [sig(1, "att")], 30)],
            {},
            pol(TAGGED, keep_at_least=0),
            None,
            expect(deleted=[1, 2, 3]),
            id="cosign signatures are deleted with their subject",
        ),
        pytest.param(
            [img(1, ["v1"], 1), img(2, [sig(1)], 30)],
            {},
            pol(TAGGED),
            None,
            expect(kept=[1]),
            id="cosign signature of a kept image is kept",
        ),
        pytest.param(
            [img(1, ["v1"], 3), img(2, ["v2"], 2), img(3, [sig(1)], 1), img(4, [sig(2)], 1)],
            {},
            pol(rule("recent", status="tagged", keep=2)),
            None,
            expect(kept=[1, 2]),
            id="a tagged rule never counts signature tags",
        ),
        pytest.param(
            [img(1, [], 30), img(2, [], 30, subject=1), img(3, [], 1)],
            {},
            pol(UNTAGGED),
            {3: "lambda:f"},
            expect(deleted=[1, 2], kept=[3]),
            id="OCI referrer follows its subject, not the untagged rule",
        ),
        pytest.param(
            [img(1, ["v1"], 1), img(2, [], 30, subject=1)],
            {},
            pol(UNTAGGED),
            None,
            expect(),
            id="OCI referrer of a kept image is kept",
        ),
        pytest.param(
            [img(1, ["v1"], 30), img(2, [sig(1)], 30)],
            {},
            pol(TAGGED, protect=["sha256-*"]),
            None,
            expect(deleted=[1], kept=[2]),
            id="a protected signature outlives its subject",
        ),
    ],
)
def test_dependents(
    images: list[Image],
    children: dict[int, list[int]],
    policy: Policy,
    in_use: Mapping[int, str] | None,
    expected: Outcome,
) -> None:
    assert outcome(plan(images, policy, children=children, in_use=in_use)) == expected


def test_phases_put_parents_first_and_reasons_name_them() -> None:
    # 1 (index) -> 2 (index) -> 3; 4 signs 1; 5 is an OCI referrer of 3
    images = [
        img(1, ["v1"], 30, index=True, size=10),
        img(2, [], 30, index=True, size=20),
        img(3, [], 30, size=30),
        img(4, [sig(1)], 30, size=40),
        img(5, [], 30, subject=3, size=50),
    ]
    p = plan(images, pol(TAGGED, keep_at_least=0), children={1: [2], 2: [3]})
    delete = ActionKind.DELETE_IMAGE
    by = "(deleted by rule stale)"
    assert p.actions == (
        Action(delete, dg(1), ("v1",), "stale", "pushed 30d ago", 10, 0),
        Action(delete, dg(2), (), "stale", f"child of index {dg(1)} {by}", 20, 1, parents=(dg(1),)),
        Action(
            delete, dg(4), (sig(1),), "stale", f"referrer of {dg(1)} {by}", 40, 1, parents=(dg(1),)
        ),
        Action(delete, dg(3), (), "stale", f"child of index {dg(2)} {by}", 30, 2, parents=(dg(2),)),
        Action(delete, dg(5), (), "stale", f"referrer of {dg(3)} {by}", 50, 3, parents=(dg(3),)),
    )
    assert p.kept == ()


def test_a_child_shared_by_two_deleted_indexes_names_both_as_parents() -> None:
    images = [img(1, ["a"], 30, index=True), img(2, ["b"], 30, index=True), img(3, [], 30)]
    p = plan(images, pol(TAGGED, keep_at_least=0), children={1: [3], 2: [3]})
    (child,) = [a for a in p.actions if a.digest == dg(3)]
    assert child.parents == (dg(1), dg(2))


def test_actions_sort_by_phase_kind_digest() -> None:
    images = [
        img(3, ["old", "latest"], 30),
        img(2, ["x"], 30, index=True),
        img(1, ["y"], 30),
        img(4, [], 30),
    ]
    p = plan(images, pol(TAGGED, protect=["latest"]), children={2: [4]})
    assert [(a.phase, a.kind.value, num(a.digest)) for a in p.actions] == [
        (0, "delete_image", 1),
        (0, "delete_image", 2),
        (0, "remove_tag", 3),
        (1, "delete_image", 4),
    ]


def test_a_spared_dependent_says_why_in_kept() -> None:
    p = plan(MULTI_ARCH, pol(TAGGED), children=MULTI_ARCH_CHILDREN, in_use={12: "ecs:prod/api"})
    assert (
        Kept(dg(12), (), f"in use by ecs:prod/api; child of index {dg(10)}, which is deleted")
        in p.kept
    )


def test_keep_at_least_counts_spared_dependents_as_remaining() -> None:
    # Deleting index 10 leaves child 12 (in use) behind as a top-level image of its own.
    images = [*MULTI_ARCH, img(1, ["a"], 40)]
    p = plan(
        images,
        pol(TAGGED, keep_at_least=1),
        children=MULTI_ARCH_CHILDREN,
        in_use={12: "ecs:prod/api"},
    )
    assert outcome(p) == expect(deleted=[1, 10, 11, 13], kept=[12])
    assert reasons(p)[1] == "pushed 40d ago"


def test_dependents_do_not_count_for_max_deletion_ratio() -> None:
    p = plan(
        [*MULTI_ARCH, img(1, ["a"], 1)],
        pol(TAGGED),
        children=MULTI_ARCH_CHILDREN,
        lim=limits(ratio=0.5),
    )
    assert outcome(p) == expect(deleted=[10, 11, 12, 13], kept=[1])
