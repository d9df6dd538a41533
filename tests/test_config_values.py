"""Values in a valid policy file: durations, tag patterns, group_by, repository globs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from config_support import policies, rule

from cleaner.config.load import load_config_text, parse_duration
from cleaner.config.model import Expire


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("90m", timedelta(minutes=90)),
        ("36h", timedelta(hours=36)),
        ("14d", timedelta(days=14)),
        ("2w", timedelta(weeks=2)),
        ("007d", timedelta(days=7)),
    ],
)
def test_durations_take_an_integer_and_a_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    config = load_config_text(rule(f"{{name: r, expire: {{pushed_before: {text}}}}}"))
    assert config.policies[0].rules[0].expire == Expire(pushed_before=expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7", "must be a duration: an integer and a unit s, m, h, d or w, like 14d (got '7')"),
        ("+7d", "must be a duration: an integer and a unit s, m, h, d or w, like 14d (got '+7d')"),
        ("", "must be a duration: an integer and a unit s, m, h, d or w, like 14d (got '')"),
        ("7d ", "must be a duration: an integer and a unit s, m, h, d or w, like 14d (got '7d ')"),
        ("٣d", "must be a duration: an integer and a unit s, m, h, d or w, like 14d (got '٣d')"),
        ("0w", "must be > 0 (got '0w')"),
    ],
)
def test_parse_duration_rejects_what_is_not_a_duration(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("pattern", "tag", "matches"),
    [
        ("feature-*", "feature-login", True),
        ("feature-*", "Feature-login", False),  # case-sensitive
        ("feature-*", "my-feature-login", False),  # whole tag
        ("v?.?", "v1.2", True),
        ("v?.?", "v1.2.3", False),
        ("[0-9]*", "2024-01", True),
        ("[0-9]*", "x2024", False),
        ("sha256-*.sig", "sha256-abc.sig", True),
        (r"re:^pr-\d+$", "pr-12", True),
        (r"re:^pr-\d+$", "pr-12a", False),
        (r"re:pr-\d+", "pr-12", True),
        (r"re:pr-\d+", "xpr-12", False),  # the regex must match the whole tag, anchors or not
        (r"re:pr-\d+", "pr-12-fix", False),
        ("re:release", "RELEASE", False),
        ("re:(?i)release", "RELEASE", True),
    ],
)
def test_tag_patterns_are_globs_or_regexes_matching_the_whole_tag(
    pattern: str, tag: str, matches: bool
) -> None:
    config = load_config_text(
        rule(f"{{name: r, select: {{tags: ['{pattern}']}}, keep: {{most_recent: 1}}}}")
    )
    selected = config.policies[0].rules[0].select.tags
    assert selected is not None
    assert selected[0].source == pattern
    assert selected[0].matches(tag) is matches


@pytest.mark.parametrize("written", ["re:^feature-([a-z0-9]+)-", "^feature-([a-z0-9]+)-"])
def test_group_by_is_a_regex_with_or_without_prefix(written: str) -> None:
    config = load_config_text(rule(f"{{name: r, keep: {{most_recent: 1, group_by: '{written}'}}}}"))
    keep = config.policies[0].rules[0].keep
    assert keep is not None and keep.group_by is not None
    assert keep.group_by.source == written
    assert keep.group_by.regex.pattern == "^feature-([a-z0-9]+)-"


def test_group_by_glob_characters_are_regex_syntax() -> None:
    config = load_config_text(rule("{name: r, keep: {most_recent: 1, group_by: 'feature-*'}}"))
    keep = config.policies[0].rules[0].keep
    assert keep is not None and keep.group_by is not None
    assert keep.group_by.regex.pattern == "feature-*"


@pytest.mark.parametrize(
    ("repository", "expected"),
    [
        ("team-a/api", "team-a"),
        ("team-a/base-images", "teams"),  # excluded from the first, so the next one applies
        ("team-b/api", "teams"),
        ("infra/proxy", "rest"),
        ("team-a", "rest"),  # globs match whole names
    ],
)
def test_policy_for_picks_the_first_matching_policy(repository: str, expected: str) -> None:
    config = load_config_text(
        policies(
            "{name: team-a, repositories: [team-a/*, '!team-a/base-*'], rules: []}",
            "{name: teams, repositories: ['team-?/*'], rules: []}",
            "{name: rest, rules: []}",
        )
    )
    policy = config.policy_for(repository)
    assert policy is not None and policy.name == expected


def test_repositories_no_policy_matches_have_none() -> None:
    config = load_config_text(policies("{name: a, repositories: ['!team-a/*'], rules: []}"))
    assert config.policy_for("team-a/api") is None
    assert config.policy_for("team-b/api") is not None  # only excludes: everything else


def test_rules_keep_their_order_and_an_empty_rule_list_is_allowed() -> None:
    text = policies(
        "{name: frozen, repositories: [base/*], rules: []}",
        "{name: p, rules: [{name: b, keep: {most_recent: 1}}, {name: a, keep: {most_recent: 2}}]}",
    )
    frozen, ordered = load_config_text(text).policies
    assert frozen.rules == ()
    assert [r.name for r in ordered.rules] == ["b", "a"]
