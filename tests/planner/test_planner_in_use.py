"""protect.in_use from references to the plan: what a workload names is never touched,
and neither is anything a protected index or subject holds on to."""

from __future__ import annotations

import pytest

from cleaner.config.model import Limits
from cleaner.core.planner import plan_repository
from cleaner.core.references import Usage, UsageIndex, parse_reference, resolve_in_use

from .conftest import (
    NOW,
    Outcome,
    dg,
    expect,
    img,
    inventory,
    num,
    outcome,
    pol,
    reasons,
    rule,
    sig,
)

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team-a/api"
EXPIRE_ALL = rule("all", pushed_before=10)
# 1: a multi-arch index (children 2, 3); 4: a single image signed by 5; 6: untagged.
IMAGES = [
    img(1, ["v1"], 30, index=True),
    img(2, [], 30),
    img(3, [], 30),
    img(4, ["v2"], 30),
    img(5, [sig(4)], 30),
    img(6, [], 30),
]
CHILDREN = {1: [2, 3]}


def plan_with(*references: str) -> tuple[Outcome, dict[int, str]]:
    repo = inventory(IMAGES, CHILDREN)
    usages = UsageIndex(
        Usage(parse_reference(r), f"ecs task t{i}") for i, r in enumerate(references)
    )
    # keep_at_least 0: only what is in use may keep an image here.
    policy = pol(EXPIRE_ALL, keep_at_least=0)
    p = plan_repository(repo, policy, Limits(), NOW, in_use=resolve_in_use(repo, usages))
    return outcome(p), reasons(p)


@pytest.mark.parametrize(
    ("references", "expected"),
    [
        pytest.param([], expect(deleted=[1, 2, 3, 4, 5, 6]), id="nothing-in-use"),
        pytest.param(
            [f"{ECR}:v1"], expect(deleted=[4, 5, 6], kept=[1]), id="index-by-tag-keeps-children"
        ),
        pytest.param([f"{ECR}@{dg(1)}"], expect(deleted=[4, 5, 6], kept=[1]), id="index-by-digest"),
        pytest.param(
            [f"{ECR}:v2"], expect(deleted=[1, 2, 3, 6], kept=[4]), id="subject-keeps-signature"
        ),
        pytest.param(
            [f"{ECR}@{dg(6)}"], expect(deleted=[1, 2, 3, 4, 5], kept=[6]), id="untagged-by-digest"
        ),
        pytest.param(
            [f"{ECR}@{dg(2)}"],
            expect(deleted=[1, 3, 4, 5, 6], kept=[2]),
            id="child-outlives-its-index",
        ),
    ],
)
def test_in_use_images_and_what_they_hold_are_never_touched(
    references: list[str], expected: Outcome
) -> None:
    assert plan_with(*references)[0] == expected


def test_the_kept_image_names_the_workload_that_protects_it() -> None:
    _, why = plan_with(f"{ECR}:v1", f"team-a/api@{dg(1)}")
    assert why[1] == "in use by ecs task t0; ecs task t1"


def test_a_child_in_use_says_so_and_that_its_index_goes() -> None:
    _, why = plan_with(f"{ECR}@{dg(2)}")
    assert why[2] == f"in use by ecs task t0; child of index {dg(1)}, which is deleted"


def test_a_tag_in_use_keeps_the_whole_image_not_just_the_tag() -> None:
    repo = inventory([img(1, ["v1", "build-7"], 30)])
    usages = UsageIndex([Usage(parse_reference(f"{ECR}:build-7"), "lambda fn:3")])
    policy = pol(rule("builds", status="tagged", tags=["v*"], pushed_before=10))
    p = plan_repository(repo, policy, Limits(), NOW, in_use=resolve_in_use(repo, usages))
    assert p.actions == ()
    ((digest, reason),) = [(num(k.digest), k.reason) for k in p.kept]
    assert digest == 1 and reason.startswith("in use by lambda fn:3")
