"""ECR's documented evaluation rules one by one, and the safety the planner adds on top
of a lifecycle policy: units, in-use, protected tags, pulled_within, keep_at_least,
limits, each kept image saying whether ECR's rule or a protection kept it."""

from __future__ import annotations

import pytest

from cleaner.config.model import Limits, OrphanedReferrers
from cleaner.core.model import ActionKind

from .conftest import dg, img, num, sig
from .lifecycle_support import (
    acted,
    as_policy,
    ecr_rule,
    image,
    letter,
    lifecycle,
    planned,
    verdicts,
)
from .lifecycle_support import deleted_letters as deleted

R = ecr_rule


# -- matching, as documented -----------------------------------------------------------


@pytest.mark.parametrize(
    ("selection", "tags", "matches"),
    [
        ({"patterns": ["prod*"]}, ["prod"], True),  # `*` may match nothing
        ({"patterns": ["prod*"]}, ["Prod-1"], False),  # case-sensitive
        ({"patterns": ["prod"]}, ["prod-1"], False),  # anchored: the whole tag
        ({"patterns": ["*-rc*"]}, ["1.0-rc2"], True),
        ({"patterns": ["*-rc*"]}, ["rc1"], False),
        ({"patterns": ["v?"]}, ["v1"], False),  # only `*` is a wildcard
        ({"patterns": ["v[0-9]"]}, ["v1"], False),
        ({"patterns": ["a*", "b*"]}, ["a1", "b1"], True),  # every entry matches some tag
        ({"patterns": ["a*", "b*"]}, ["a1", "c1"], False),
        ({"patterns": ["a*", "*1"]}, ["a1"], True),  # ... one tag may match several
        ({"prefixes": ["prod"]}, ["production"], True),
        ({"prefixes": ["prod"]}, ["xprod"], False),
        ({"prefixes": ["prod", "v"]}, ["prod", "v1"], True),
        ({"prefixes": ["prod", "v"]}, ["prod"], False),
        ({"prefixes": ["prod*"]}, ["prod-1"], False),  # a prefix is literal
    ],
)
def test_tag_lists_match_as_documented(
    selection: dict[str, list[str]], tags: list[str], matches: bool
) -> None:
    policy = lifecycle(R(1, "tagged", "pushed", 1, **selection))  # type: ignore[arg-type]
    found = verdicts(policy, [image("A", tags, pushed=5)])
    assert ("A" in found) is matches
    assert acted(found) == ({"A"} if matches else set())


def test_untagged_and_any_select_by_tag_status_only() -> None:
    images = [image("A", [], 5), image("B", ["x"], 5)]
    assert acted(verdicts(lifecycle(R(1, "untagged", "pushed", 1)), images)) == {"A"}
    assert acted(verdicts(lifecycle(R(1, "any", "pushed", 1)), images)) == {"A", "B"}


def test_image_count_orders_by_push_time_not_by_pull() -> None:
    images = [image("A", [], 10, pulled=0.1), image("B", [], 5), image("C", [], 1)]
    assert acted(verdicts(lifecycle(R(1, "untagged", "count", 2)), images)) == {"A"}


def test_equal_push_times_are_ordered_by_digest() -> None:
    images = [image("B", [], 5), image("A", [], 5)]
    # The docs do not say; the lower digest counts as the newer, as in the planner.
    assert acted(verdicts(lifecycle(R(1, "untagged", "count", 1)), images)) == {"B"}


@pytest.mark.parametrize(("days", "marked"), [(5 - 1 / 24, False), (5, False), (5 + 1 / 24, True)])
def test_since_counts_more_than_n_days(days: float, marked: bool) -> None:
    found = verdicts(lifecycle(R(1, "untagged", "pushed", 5)), [image("A", [], days)])
    assert found["A"].acts is marked


def test_rules_without_storage_class_see_standard_images_only() -> None:
    policy = lifecycle(R(1, "any", "pushed", 1, action="transition"))
    found = verdicts(policy, [image("A", [], 9), image("B", [], 9)], archived={"B": 3})
    assert set(found) == {"A"}


# -- the planner on top: units -----------------------------------------------------------


def test_a_deleted_image_goes_whole_with_every_tag() -> None:
    result = planned(
        lifecycle(R(1, "tagged", "pushed", 7, patterns=["feature-*"])),
        [image("A", ["feature-1", "v1.0"], 9)],
    )
    (action,) = result.actions
    assert action.kind is ActionKind.DELETE_IMAGE and action.tags == ("feature-1", "v1.0")
    assert action.rule == "lifecycle rule 1"
    assert action.reason == "tagged feature-*, pushed 9d ago (more than 7 days)"


def test_children_and_signatures_follow_their_index_and_are_never_counted() -> None:
    images = [
        img(1, ["v1"], 30, index=True),
        img(2, [], 30),  # v1's platforms
        img(3, [], 30),
        img(4, [sig(1)], 30),  # v1's signature
        img(5, [], 20),  # an untagged top-level image
        img(6, [], 10),
        img(7, ["v2"], 1, index=True),
        img(8, [], 1),  # v2's platform
    ]
    policy = lifecycle(R(1, "tagged", "count", 1, patterns=["v*"]), R(2, "untagged", "count", 1))
    result = planned(policy, images, children={1: [2, 3], 7: [8]})
    # Rule 2 counts the untagged top-level images 5 and 6 only: the platforms of the live
    # index 7 are not untagged images to it. Rule 1 takes index 1 with its platforms and
    # signature.
    assert {num(a.digest) for a in result.actions} == {1, 2, 3, 4, 5}
    reasons = {num(a.digest): a.reason for a in result.actions}
    assert reasons[2] == f"child of index {dg(1)} (deleted by rule lifecycle rule 1)"
    assert reasons[4] == f"referrer of {dg(1)} (deleted by rule lifecycle rule 1)"


# -- protections: each kept image says which ECR rule would act, and what stops it -------

TWO_RULES = lifecycle(
    R(1, "tagged", "count", 1, patterns=["prod*"]),
    R(2, "tagged", "count", 1, patterns=["beta*"]),
)
REPOSITORY = [
    image("A", ["beta-1", "prod-1"], 10),
    image("B", ["beta-2", "prod-2"], 9),
    image("C", ["beta-3"], 8),
    image("D", ["beta-0", "latest"], 20),
]


def test_kept_images_say_which_ecr_rule_kept_them() -> None:
    kept = {letter(num(k.digest)): k.reason for k in planned(TWO_RULES, REPOSITORY).kept}
    assert kept == {
        "B": "ECR rule 1: within 1 most recent tagged prod* (rule 2 marks it too, but may "
        "not act on an image rule 1 selects)",
        "C": "ECR rule 2: within 1 most recent tagged beta*",
    }


def test_in_use_keeps_an_image_ecr_would_expire() -> None:
    result = planned(TWO_RULES, REPOSITORY, in_use={1: "ecs:prod/api"})
    assert deleted(result) == {"D"}
    kept = {letter(num(k.digest)): k.reason for k in result.kept}
    assert kept["A"] == (
        "ECR rule 1 would expire this (beyond 1 most recent tagged prod*; pushed 10d ago); "
        "kept: in use by ecs:prod/api"
    )


def test_a_protected_tag_keeps_the_whole_image() -> None:
    result = planned(as_policy(TWO_RULES, protect=["latest"]), REPOSITORY)
    assert deleted(result) == {"A"}
    assert not [a for a in result.actions if a.kind is ActionKind.REMOVE_TAG]
    kept = {letter(num(k.digest)): k for k in result.kept}
    assert kept["D"].tags == ("beta-0", "latest")
    assert kept["D"].reason == (
        "ECR rule 2 would expire this (beyond 1 most recent tagged beta*; pushed 20d ago); "
        "kept: protected tag latest"
    )


def test_pulled_within_keeps_a_recently_pulled_image() -> None:
    images = [image("A", [], 30, pulled=2), image("B", [], 30)]
    policy = as_policy(lifecycle(R(1, "untagged", "pushed", 7)), pulled_within=7)
    result = planned(policy, images)
    assert deleted(result) == {"B"}
    (kept,) = result.kept
    assert kept.reason.endswith("kept: pulled 2d ago (protect.pulled_within 7d)")


def test_keep_at_least_spares_the_newest_of_what_ecr_would_expire() -> None:
    images = [image("A", [], 30), image("B", [], 20), image("C", [], 10)]
    policy = as_policy(lifecycle(R(1, "any", "pushed", 7)), keep_at_least=2)
    result = planned(policy, images)
    assert deleted(result) == {"A"}
    assert {k.reason.split("; kept: ")[1] for k in result.kept} == {"protect.keep_at_least 2"}


def test_max_deletion_ratio_holds_the_repository() -> None:
    images = [image("A", [], 30), image("B", [], 20), image("C", [], 1)]
    result = planned(lifecycle(R(1, "any", "pushed", 7)), images, lim=Limits(1000, 0.5))
    assert not result.actions
    assert result.error is not None and "limits.max_deletion_ratio 0.5" in result.error


def test_orphaned_referrers_pseudo_rule_still_applies_after_ecr_rules() -> None:
    images = [img(1, [sig(99)], 1), img(2, [], 1)]  # a signature of an absent image
    lim = Limits(orphaned_referrers=OrphanedReferrers.DELETE)
    result = planned(lifecycle(R(1, "untagged", "count", 5)), images, lim=lim)
    assert [(num(a.digest), a.rule) for a in result.actions] == [(1, "orphaned-referrers")]


def test_an_image_an_ecr_rule_selects_is_not_an_orphan_candidate() -> None:
    images = [img(1, [sig(99)], 1)]
    lim = Limits(orphaned_referrers=OrphanedReferrers.DELETE)
    result = planned(lifecycle(R(1, "any", "count", 5)), images, lim=lim)
    assert not result.actions  # ECR's rule 1 keeps it: the pseudo-rule comes after
