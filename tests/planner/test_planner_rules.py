"""Planner tables, one case per rule field: (images, policy) -> what is deleted and kept."""

from __future__ import annotations

import pytest

from cleaner.config.model import Policy
from cleaner.core.model import Image

from .conftest import Outcome, expect, img, outcome, plan, pol, rule

AGES = [img(n, [f"t{n}"], pushed_days_ago=n) for n in range(1, 6)]  # t1 newest ... t5 oldest


@pytest.mark.parametrize(
    ("images", "policy", "expected"),
    [
        # select.tag_status
        pytest.param(
            [img(1, ["a"], 10), img(2, [], 10)],
            pol(rule(status="tagged", pushed_before=5)),
            expect(deleted=[1]),
            id="tagged",
        ),
        pytest.param(
            [img(1, ["a"], 10), img(2, [], 10)],
            pol(rule(status="untagged", pushed_before=5)),
            expect(deleted=[2]),
            id="untagged",
        ),
        pytest.param(
            [img(1, ["a"], 10), img(2, [], 10), img(3, [], 1)],
            pol(rule(status="any", pushed_before=5)),
            expect(deleted=[1, 2], kept=[3]),
            id="any",
        ),
        # select.tags
        pytest.param(
            [img(1, ["feature-x"], 10), img(2, ["main-1"], 10), img(3, [], 10)],
            pol(rule(status="tagged", tags=["feature-*"], pushed_before=5)),
            expect(deleted=[1]),
            id="tags glob",
        ),
        pytest.param(
            [img(1, ["pr-12"], 10), img(2, ["pr-x"], 10), img(3, ["xpr-1"], 10)],
            pol(rule(status="tagged", tags=[r"re:pr-\d+"], pushed_before=5)),
            expect(deleted=[1]),
            id="tags re: whole tag",
        ),
        pytest.param(
            [img(1, ["feature-x"], 10), img(2, [], 10)],
            pol(rule(tags=["feature-*"], pushed_before=5), keep_at_least=0),
            expect(deleted=[1, 2]),
            id="any with tags also selects untagged",
        ),
        # keep
        pytest.param(
            AGES, pol(rule(keep=2)), expect(deleted=[3, 4, 5], kept=[1, 2]), id="keep, no expire"
        ),
        pytest.param(
            AGES,
            pol(rule(keep=2, pushed_before=3.5)),
            expect(deleted=[4, 5], kept=[1, 2, 3]),
            id="keep and expire",
        ),
        pytest.param(
            [img(2, ["b"], 5), img(1, ["a"], 5), img(3, ["c"], 5)],
            pol(rule(keep=1)),
            expect(deleted=[2, 3], kept=[1]),
            id="tie broken by digest",
        ),
        pytest.param(
            [img(1, ["a"], 1), img(2, ["b"], 20, 0.5), img(3, ["c"], 20, 8)],
            pol(rule(keep=2, order_by="pulled")),
            expect(deleted=[3], kept=[1, 2]),
            id="order_by pulled (push time if never pulled)",
        ),
        pytest.param(
            [img(1, ["1.2.0"], 1), img(2, ["1.10.0"], 5), img(3, ["1.9.9"], 0.5)],
            pol(rule(keep=2, order_by="semver")),
            expect(deleted=[1], kept=[2, 3]),
            id="semver numeric, not lexical or push",
        ),
        pytest.param(
            [img(1, ["2.0.0-rc.1"], 1), img(2, ["2.0.0"], 5), img(3, ["1.0.0"], 0.5)],
            pol(rule(keep=1, order_by="semver")),
            expect(deleted=[1, 3], kept=[2]),
            id="semver prerelease before release",
        ),
        pytest.param(
            [img(1, ["2.0.0-rc.2"], 1), img(2, ["2.0.0-rc.10"], 5)],
            pol(rule(keep=1, order_by="semver")),
            expect(deleted=[1], kept=[2]),
            id="semver prerelease numeric identifiers",
        ),
        pytest.param(
            [img(1, ["1.2.9"], 1), img(2, ["v1.3.0"], 5)],
            pol(rule(keep=1, order_by="semver")),
            expect(deleted=[1], kept=[2]),
            id="semver v prefix",
        ),
        pytest.param(
            [img(1, ["nightly"], 0.1), img(2, ["0.0.1"], 100), img(3, ["abc"], 1)],
            pol(rule(keep=2, order_by="semver")),
            expect(deleted=[3], kept=[1, 2]),
            id="semver unversioned last, by push time",
        ),
        pytest.param(
            [img(1, ["0.1.0", "9.0.0-x"], 1), img(2, ["1.0.0"], 5)],
            pol(rule(keep=1, order_by="semver")),
            expect(deleted=[2], kept=[1]),
            id="semver highest of the image's tags",
        ),
        pytest.param(
            [img(2, ["1.0.0+b1"], 1), img(1, ["1.0.0+b2"], 5)],
            pol(rule(keep=1, order_by="semver")),
            expect(deleted=[2], kept=[1]),
            id="semver build metadata ignored, tie by digest",
        ),
        # group_by
        pytest.param(
            [
                img(1, ["feature-login-1"], 1),
                img(2, ["feature-login-2"], 2),
                img(3, ["feature-login-3"], 3),
                img(4, ["feature-pay-1"], 4),
                img(5, ["feature-pay-2"], 5),
            ],
            pol(rule(keep=1, group_by="re:^feature-([a-z]+)-")),
            expect(deleted=[2, 3, 5], kept=[1, 4]),
            id="group_by first group",
        ),
        pytest.param(
            [img(1, ["app-1"], 1), img(2, ["app-2"], 2), img(3, ["web-1"], 3)],
            pol(rule(keep=1, group_by="^[a-z]+")),
            expect(deleted=[2], kept=[1, 3]),
            id="group_by whole match without groups",
        ),
        pytest.param(
            [img(1, ["x-app"], 1), img(2, ["y-app"], 2), img(3, ["web"], 3)],
            pol(rule(keep=1, group_by="app")),
            expect(deleted=[2], kept=[1, 3]),
            id="group_by searches, not fullmatch",
        ),
        pytest.param(
            [
                img(1, ["feature-a-1"], 1),
                img(2, ["main"], 6),
                img(3, ["dev"], 7),
                img(4, [], 8),
                img(5, [], 0.5),
            ],
            pol(rule(keep=1, group_by="re:^feature-([a-z]+)-")),
            expect(deleted=[2, 3, 4], kept=[1, 5]),
            id="group_by unmatched tags and untagged form one group",
        ),
        pytest.param(
            [
                img(1, ["feature-login-1", "feature-pay-1"], 5),
                img(2, ["feature-pay-2"], 1),
                img(3, ["feature-login-0"], 10),
            ],
            pol(rule(keep=1, group_by="re:^feature-([a-z]+)-")),
            expect(deleted=[3], removed={1: ("feature-pay-1",)}, kept=[1, 2]),
            id="group_by keeps per tag",
        ),
        pytest.param(
            [
                img(1, ["v1.0.0"], 1),
                img(2, ["v1.1.0"], 9),
                img(3, ["v2.0.0"], 9),
                img(4, ["v2.1.0"], 1),
            ],
            pol(rule(keep=1, order_by="semver", group_by=r"re:^v(\d+)\.")),
            expect(deleted=[1, 3], kept=[2, 4]),
            id="group_by with semver: newest version per major",
        ),
        pytest.param(
            [img(1, ["v1.0.0"], 1), img(2, ["1.2.0"], 9), img(3, ["v2.0.0"], 9)],
            pol(rule(keep=1, group_by=r"^v?(\d+)\.")),
            expect(deleted=[2], kept=[1, 3]),
            id="group_by names the group by the captured text, not the whole match",
        ),
        # expire
        pytest.param(
            [img(1, ["a"], 20), img(2, ["b"], 10), img(3, ["c"], 14)],
            pol(rule(pushed_before=14)),
            expect(deleted=[1], kept=[2, 3]),
            id="pushed_before (strictly more than)",
        ),
        pytest.param(
            [img(1, ["a"], 40, 35), img(2, ["b"], 40, 5), img(3, ["c"], 40)],
            pol(rule(not_pulled_for=30)),
            expect(deleted=[1, 3], kept=[2]),
            id="not_pulled_for (push time if never pulled)",
        ),
        pytest.param(
            [img(1, ["a"], 40, 35), img(2, ["b"], 40, 5), img(3, ["c"], 10)],
            pol(rule(pushed_before=14, not_pulled_for=30)),
            expect(deleted=[1], kept=[2, 3]),
            id="pushed_before AND not_pulled_for",
        ),
        # several tags on one image
        pytest.param(
            [img(1, ["feature-a", "release-1"], 20), img(2, ["feature-b", "feature-c"], 20)],
            pol(rule(status="tagged", tags=["feature-*"], pushed_before=14)),
            expect(deleted=[2], removed={1: ("feature-a",)}, kept=[1]),
            id="only stale tags go; image deleted when all go",
        ),
    ],
)
def test_rule_fields(images: list[Image], policy: Policy, expected: Outcome) -> None:
    assert outcome(plan(images, policy)) == expected


@pytest.mark.parametrize(
    ("images", "policy", "expected"),
    [
        pytest.param(
            [img(1, ["release-1"], 30), img(2, ["release-2"], 20), img(3, ["dev"], 30)],
            pol(
                rule("releases", tags=["release-*"], keep=1),
                rule("everything", status="tagged", pushed_before=1),
            ),
            expect(deleted=[1, 3], kept=[2]),
            id="a tag kept by an earlier rule is invisible to later ones",
        ),
        pytest.param(
            [img(4, ["release-3", "dev-2"], 5), img(5, ["release-4"], 9)],
            pol(
                rule("releases", tags=["release-*"], keep=1),
                rule("everything", status="tagged", pushed_before=1),
            ),
            expect(deleted=[5], removed={4: ("dev-2",)}, kept=[4]),
            id="claiming is per tag",
        ),
        pytest.param(
            [img(1, [], 10), img(2, [], 40)],
            pol(rule("old", status="untagged", pushed_before=30), rule("all", pushed_before=1)),
            expect(deleted=[2], kept=[1]),
            id="an untagged image selected earlier is not seen again",
        ),
        pytest.param(
            [img(1, ["a"], 1), img(2, ["b"], 2), img(3, ["c"], 3)],
            pol(rule("first", tags=["a", "b"], keep=5), rule("second", keep=1)),
            expect(deleted=[], kept=[1, 2, 3]),
            id="a later rule counts only its own candidates",
        ),
    ],
)
def test_rule_order(images: list[Image], policy: Policy, expected: Outcome) -> None:
    assert outcome(plan(images, policy)) == expected


def test_deletion_is_attributed_to_the_highest_priority_rule() -> None:
    p = plan(
        [img(1, ["feature-a", "pr-1"], 40)],
        pol(
            rule("prs", tags=["pr-*"], pushed_before=30),
            rule("features", pushed_before=14),
            keep_at_least=0,
        ),
    )
    (action,) = p.actions
    assert action.rule == "prs"
    assert action.tags == ("feature-a", "pr-1")
    assert action.reason == "pr-1: pushed 40d ago; feature-a: pushed 40d ago (rule features)"
