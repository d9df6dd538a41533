"""`lifecycle export`: our rules as ECR lifecycle JSON, exact where ECR can say the same,
and every difference named where it cannot. The JSON always passes ECR's validation;
where the export says exact, importing it plans the same actions on random registries."""

# ruff: noqa: E501  (one row per line keeps the tables readable)
from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.config.fields import Issues
from cleaner.config.lifecycle import validate_policy
from cleaner.config.load import load_config_text
from cleaner.config.model import (
    Expire,
    Keep,
    Limits,
    NamePatterns,
    OrderBy,
    Policy,
    Protect,
    Rule,
    Select,
    TagPattern,
    TagStatus,
)
from cleaner.core.lifecycle.export import Export, export_policy
from cleaner.core.planner import plan_repository

from .conftest import NOW
from .lifecycle_support import as_policy
from .test_lifecycle_properties import policies as lifecycle_policies
from .test_properties import Case, repositories
from .test_properties import policies as any_policies


def export(rules_yaml: str, protect: str = "{keep_at_least: 0}", limits: str = "") -> Export:
    text = f"version: 1\ntargets: [{{region: us-east-1}}]\npolicies:\n  - name: p\n    protect: {protect}\n    rules: {rules_yaml}\n{limits}"
    config = load_config_text(text)
    return export_policy(config.policies[0], config.limits)


def rules_of(result: Export) -> list[dict[str, object]]:
    assert result.policy is not None
    return [
        {k: v for k, v in r.items() if k != "rulePriority"}
        for r in result.policy.to_json()["rules"]
    ]  # type: ignore[union-attr]


def sel(status: str, count: str, n: int, patterns: list[str] | None = None) -> dict[str, object]:
    selection: dict[str, object] = {"tagStatus": status}
    if patterns:
        selection["tagPatternList"] = patterns
    if count == "count":
        selection.update(countType="imageCountMoreThan", countNumber=n)
    else:
        selection.update(countType="sinceImagePushed", countUnit="days", countNumber=n)
    return {"selection": selection, "action": {"type": "expire"}}


EXACT = [
    pytest.param(
        "[{name: u, select: {tag_status: untagged}, expire: {pushed_before: 14d}}]",
        [sel("untagged", "pushed", 14)],
        id="untagged-age",
    ),
    pytest.param(
        "[{name: u, select: {tag_status: untagged}, keep: {most_recent: 1}}]",
        [sel("untagged", "count", 1)],
        id="untagged-count",
    ),
    pytest.param(
        "[{name: t, select: {tag_status: tagged}, keep: {most_recent: 10}}, {name: u, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]",
        [sel("tagged", "count", 10, ["*"]), sel("untagged", "pushed", 1)],
        id="tagged-then-untagged",
    ),
    pytest.param("[{name: all, keep: {most_recent: 5}}]", [sel("any", "count", 5)], id="any"),
    pytest.param(
        "[{name: t, select: {tag_status: tagged}, expire: {pushed_before: 2w}}, {name: all, keep: {most_recent: 3}}]",
        [sel("tagged", "pushed", 14, ["*"]), sel("untagged", "count", 3)],
        id="any-after-tagged-counts-untagged-only",
    ),
    pytest.param(
        "[{name: all, expire: {pushed_before: 30d}}, {name: late, select: {tag_status: untagged}, keep: {most_recent: 1}}]",
        [sel("any", "pushed", 30)],
        id="rule-after-any-left-out",
    ),
]


@pytest.mark.parametrize(("rules_yaml", "expected"), EXACT)
def test_exact_exports(rules_yaml: str, expected: list[dict[str, object]]) -> None:
    result = export(rules_yaml)
    assert result.exact, result.approximations
    assert rules_of(result) == expected


def test_protected_tags_become_a_keep_rule_first() -> None:
    result = export(
        "[{name: u, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]",
        protect="{keep_at_least: 0, tags: [latest, 'v*']}",
    )
    assert result.approximations == (
        "protect.tags: ecr-cleaner also keeps a platform image or signature with such a tag when its index or subject goes; ECR's keep rule sees top-level images only",
    )
    assert result.policy is not None
    keep = result.policy.rules[0].to_json()
    assert keep == {
        "rulePriority": 1,
        "description": "ecr-cleaner: keep latest (protect.tags)",
        "selection": {
            "tagStatus": "tagged",
            "tagPatternList": ["latest"],
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": 36500,
        },
        "action": {"type": "expire"},
    }
    assert [r.priority for r in result.policy.rules] == [1, 2, 3]


APPROXIMATE = [
    pytest.param(
        "[{name: f, select: {tag_status: tagged, tags: ['feature-*']}, keep: {most_recent: 5}}]",
        "{keep_at_least: 0}",
        "",
        [sel("tagged", "count", 5, ["feature-*"])],
        [
            "rule 'f': ecr-cleaner removes only the selected tags from an image that has others; ECR expires the whole image"
        ],
        id="glob",
    ),
    pytest.param(
        "[{name: r, select: {tag_status: tagged, tags: ['re:^v.+$']}, expire: {pushed_before: 1d}}, {name: u, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]",
        "{keep_at_least: 0}",
        "",
        [sel("untagged", "pushed", 1)],
        ["rule 'r': tag pattern 're:^v.+$': a regex (ECR matches globs with * only); left out"],
        id="regex",
    ),
    pytest.param(
        "[{name: f, select: {tag_status: tagged, tags: ['a*', 'b*']}, keep: {most_recent: 2}}]",
        "{keep_at_least: 0}",
        "",
        [sel("tagged", "count", 2, ["a*"]), sel("tagged", "count", 2, ["b*"])],
        [
            "rule 'f': ECR counts keep.most_recent for each of its globs apart (a*, b*); one ECR rule cannot match any of several"
        ],
        id="several-globs",
    ),
    pytest.param(
        "[{name: f, select: {tag_status: tagged, tags: ['v?']}, expire: {pushed_before: 1d}}]",
        "{keep_at_least: 0}",
        "",
        None,
        ["rule 'f': tag pattern 'v?': uses ? or [...] (ECR's patterns know only *); left out"],
        id="question-mark",
    ),
    pytest.param(
        "[{name: f, select: {tag_status: tagged, tags: ['a*b*c*d*e*f']}, expire: {pushed_before: 1d}}]",
        "{keep_at_least: 0}",
        "",
        None,
        ["rule 'f': tag pattern 'a*b*c*d*e*f': more than 4 * (ECR's limit); left out"],
        id="five-stars",
    ),
    pytest.param(
        "[{name: s, select: {tag_status: tagged}, keep: {most_recent: 3, order_by: semver}}]",
        "{keep_at_least: 0}",
        "",
        [sel("tagged", "count", 3, ["*"])],
        ["rule 's': order_by semver: ECR keeps the most recently pushed"],
        id="semver",
    ),
    pytest.param(
        "[{name: a, select: {tag_status: untagged}, keep: {most_recent: 3}, expire: {pushed_before: 7d}}]",
        "{keep_at_least: 0}",
        "",
        [sel("untagged", "count", 3)],
        [
            "rule 'a': keep AND expire: ECR cannot require both; it expires every image beyond the 3 most recent, whatever its age"
        ],
        id="count-and-age",
    ),
    pytest.param(
        "[{name: p, select: {tag_status: untagged}, expire: {not_pulled_for: 30d}}]",
        "{keep_at_least: 0}",
        "",
        [sel("untagged", "pushed", 36500)],
        [
            "rule 'p': not_pulled_for: ECR expires by last pull only through archive (sinceImagePulled needs a transition); its images are kept"
        ],
        id="not-pulled-for",
    ),
    pytest.param(
        "[{name: h, select: {tag_status: untagged}, expire: {pushed_before: 36h}}]",
        "{keep_at_least: 0}",
        "",
        [sel("untagged", "pushed", 2)],
        ["rule 'h': pushed_before is not whole days; ECR counts days, so 2d"],
        id="hours",
    ),
    pytest.param(
        "[{name: g, select: {tag_status: tagged}, keep: {most_recent: 2, group_by: '^(api|web)-'}}]",
        "{keep_at_least: 0}",
        "",
        [sel("tagged", "count", 2, ["api-*"]), sel("tagged", "count", 2, ["web-*"])],
        [
            "rule 'g': one ECR rule per group_by prefix (api-, web-): tags outside them are left out, and an image with tags in two groups is decided by the first",
            "rule 'g': ecr-cleaner removes only the selected tags from an image that has others; ECR expires the whole image",
        ],
        id="group-by-literal",
    ),
    pytest.param(
        "[{name: g, select: {tag_status: tagged}, keep: {most_recent: 2, group_by: '^feature-([a-z]+)-'}}]",
        "{keep_at_least: 0}",
        "",
        [sel("tagged", "count", 2, ["*"])],
        [
            "rule 'g': group_by '^feature-([a-z]+)-' is not a list of literal prefixes; ECR keeps most_recent over the whole selection"
        ],
        id="group-by-dynamic",
    ),
    pytest.param(
        "[{name: a, select: {tags: ['x*']}, expire: {pushed_before: 1d}}]",
        "{keep_at_least: 0}",
        "",
        [sel("tagged", "pushed", 1, ["x*"]), sel("untagged", "pushed", 1)],
        [
            "rule 'a': ecr-cleaner removes only the selected tags from an image that has others; ECR expires the whole image"
        ],
        id="any-with-tags-splits",
    ),
    pytest.param(
        "[{name: u, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]",
        "{}",
        "",
        [sel("untagged", "pushed", 1)],
        ["protect.keep_at_least 1: ECR has no floor on the images a repository keeps"],
        id="keep-at-least-default",
    ),
    pytest.param(
        "[{name: u, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]",
        "{keep_at_least: 0, pulled_within: 7d, in_use: {sources: [ecs]}}",
        "",
        [sel("untagged", "pushed", 1)],
        [
            "protect.pulled_within: ECR does not spare recently pulled images",
            "protect.in_use ecs: ECR cannot see images in use",
        ],
        id="pulled-and-in-use",
    ),
    pytest.param(
        "[{name: t, select: {tag_status: tagged}, keep: {most_recent: 1}}]",
        "{keep_at_least: 0, tags: [latest, 're:^v']}",
        "",
        [
            {
                "description": "ecr-cleaner: keep latest (protect.tags)",
                **sel("tagged", "pushed", 36500, ["latest"]),
            },
            sel("tagged", "count", 1, ["*"]),
        ],
        [
            "protect.tags 're:^v': a regex (ECR matches globs with * only); ECR may expire images with it",
            "protect.tags: ecr-cleaner keeps the tag but may remove the image's other tags; ECR keeps the whole image",
        ],
        id="protected-tags-with-tagged-rules",
    ),
    pytest.param(
        "[{name: u, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]",
        "{keep_at_least: 0}",
        "limits: {orphaned_referrers: delete}",
        [sel("untagged", "pushed", 1)],
        ["limits.orphaned_referrers delete: ECR has no rule for orphaned referrers"],
        id="orphans",
    ),
]


@pytest.mark.parametrize(
    ("rules_yaml", "protect", "limits", "expected", "differences"), APPROXIMATE
)
def test_approximate_exports_name_every_difference(
    rules_yaml: str,
    protect: str,
    limits: str,
    expected: list[dict[str, object]] | None,
    differences: list[str],
) -> None:
    result = export(rules_yaml, protect, limits)
    assert not result.exact
    for difference in differences:
        assert difference in result.approximations
    if expected is None:
        assert result.policy is None
    else:
        assert rules_of(result) == expected


def test_no_rules_means_no_lifecycle_policy() -> None:
    result = export("[]")
    assert result.policy is None and result.exact
    assert result.notes == ("nothing to expire: give its repositories no lifecycle policy",)


def test_a_lifecycle_policy_is_exported_as_it_is_after_the_keep_rules() -> None:
    text = """version: 1
targets: [{region: us-east-1}]
policies:
  - name: p
    protect: {keep_at_least: 0, tags: [latest]}
    lifecycle_policy:
      rules:
        - {rulePriority: 5, description: mine, selection: {tagStatus: untagged, countType: imageCountMoreThan, countNumber: 2}, action: {type: expire}}
"""
    config = load_config_text(text)
    result = export_policy(config.policies[0], config.limits)
    assert result.policy is not None
    assert [(r.priority, r.description) for r in result.policy.rules] == [
        (1, "ecr-cleaner: keep latest (protect.tags)"),
        (2, "mine"),
    ]


# -- properties ------------------------------------------------------------------------


def passes_ecr_validation(result: Export) -> None:
    if result.policy is None:
        return
    text = result.policy.text(indent=2)
    issues = Issues()
    parsed = validate_policy(issues, "", json.loads(text), text_length=len(text))
    assert parsed == result.policy, issues.errors


@pytest.mark.slow  # a property test at full size
@settings(max_examples=100, deadline=None)
@given(any_policies())
def test_every_export_passes_ecr_validation(pl: tuple[Policy, Limits]) -> None:
    passes_ecr_validation(export_policy(*pl))


DAY = timedelta(days=1)


@st.composite
def exportable_rules(draw: st.DrawFn) -> Rule:
    """Rules of the kind that export exactly (tag_status alone; one count or one age in
    whole days), with a few that do not mixed in."""
    status = draw(st.sampled_from(list(TagStatus)))
    tags = None
    if status is not TagStatus.UNTAGGED and draw(st.integers(0, 7)) == 0:
        tags = (TagPattern.parse(draw(st.sampled_from(["latest", "v*", "*-1"]))),)
    if draw(st.booleans()):
        return Rule("k", Select(status, tags), keep=Keep(draw(st.integers(1, 4)), OrderBy.PUSHED))
    days = draw(st.integers(1, 30)) * DAY
    if draw(st.integers(0, 7)) == 0:
        days += timedelta(hours=draw(st.integers(1, 23)))
    return Rule("e", Select(status, tags), expire=Expire(pushed_before=days))


@st.composite
def exportable_policies(draw: st.DrawFn) -> Policy:
    protect = Protect(
        tags=(TagPattern.parse(draw(st.sampled_from(["latest", "v1*", "sha256-*"]))),)
        if draw(st.integers(0, 4)) == 0
        else (),
        keep_at_least=draw(st.sampled_from([0, 0, 0, 0, 1])),
    )
    if draw(st.integers(0, 3)) == 0:  # an ECR lifecycle policy, expire rules only
        lifecycle = draw(lifecycle_policies())
        rules = tuple(
            r
            for r in lifecycle.rules
            if r.action.type == "expire" and r.storage_class == "standard"
        )
        if rules:
            return Policy("lc", NamePatterns(), protect, (), replace(lifecycle, rules=rules))
    return Policy(
        "p",
        NamePatterns(),
        protect,
        tuple(draw(st.lists(exportable_rules(), min_size=1, max_size=3))),
    )


def actions(case: Case, policy: Policy) -> list[tuple[str, str, tuple[str, ...]]]:
    plan = plan_repository(case.inventory, policy, Limits(), NOW)
    return sorted((a.kind, a.digest, a.tags) for a in plan.actions)


@pytest.mark.slow  # a property test at full size: ~1 s
@settings(max_examples=200, deadline=None)
@given(repositories(), exportable_policies())
def test_where_export_says_exact_importing_it_plans_the_same(case: Case, policy: Policy) -> None:
    result = export_policy(policy, Limits())
    passes_ecr_validation(result)
    if not result.exact:
        return
    imported = [] if result.policy is None else actions(case, as_policy(result.policy))
    assert imported == actions(case, policy)


def test_the_round_trip_sees_exact_exports_often() -> None:
    """Guard for the property above: most generated policies must export exactly, or it
    would pass without checking anything."""
    found = []

    @settings(max_examples=100, deadline=None, database=None)
    @given(exportable_policies())
    def count(policy: Policy) -> None:
        found.append(export_policy(policy, Limits()).exact)

    count()
    assert sum(found) >= len(found) // 3


def test_archive_rules_export_as_transitions_and_archive_class_rules() -> None:
    result = export(
        "[{name: quarantine, select: {tag_status: untagged}, expire: {pushed_before: 30d},"
        " action: archive},"
        " {name: purge, select: {tag_status: untagged, storage: archived},"
        " expire: {archived_before: 90d}}]"
    )
    assert result.exact, result.approximations
    assert rules_of(result) == [
        {
            "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30},
            "action": {"type": "transition", "targetStorageClass": "archive"},
        },
        {
            "selection": {"tagStatus": "untagged", "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 90},
            "action": {"type": "expire"},
        },
    ]  # fmt: skip
    passes_ecr_validation(result)


def test_an_archive_rule_by_last_pull_exports_as_since_image_pulled() -> None:
    result = export(
        "[{name: cold, select: {tag_status: any}, expire: {not_pulled_for: 60d}, action: archive}]"
    )
    assert result.exact, result.approximations
    ((only),) = rules_of(result)
    assert only["selection"] == {
        "tagStatus": "any",
        "countType": "sinceImagePulled",
        "countUnit": "days",
        "countNumber": 60,
    }
    assert only["action"] == {"type": "transition", "targetStorageClass": "archive"}
    passes_ecr_validation(result)
