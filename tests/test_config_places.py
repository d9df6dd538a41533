"""Each config error starts with FILE:LINE:COL of what it is about: the value, the key
when the key is unknown, the mapping when a key is missing."""

# ruff: noqa: E501  (one row per line keeps the table readable)
from __future__ import annotations

import pytest
from config_support import errors_of

from cleaner.config.load import ConfigError, parse_config

BLOCK = """\
# a comment first: lines count from the top of the file
version: 1
targets:
  - region: us-east-1
    repositories: ["team-a/*"]
policies:
  - name: services
    protect:
      keep_at_least: KEEP
    rules:
      - name: old
        expire:
          pushed_before: AGE
      - name: untagged
        select: {tag_status: untagged}
        keep: {KEEP_RULE}
"""


def block(keep: str = "3", age: str = "14d", keep_rule: str = "most_recent: 2") -> str:
    return BLOCK.replace("KEEP_RULE", keep_rule).replace("KEEP", keep).replace("AGE", age)


# fmt: off
CASES = [
    pytest.param(block(age="7x"), ["policy.yaml:13:26: policies[0].rules[0].expire.pushed_before: must be a duration: an integer and a unit s, m, h, d or w, like 14d (got '7x')"], id="block-value"),
    pytest.param(block(keep="-1"), ["policy.yaml:9:22: policies[0].protect.keep_at_least: must be an integer >= 0 (got -1)"], id="block-value-2"),
    pytest.param(block(keep_rule="most_recnt: 2"), ["policy.yaml:16:16: policies[0].rules[1].keep.most_recnt: unknown key (expected one of: most_recent, order_by, group_by)", "policy.yaml:16:15: policies[0].rules[1].keep.most_recent: required"], id="unknown-key-at-key-missing-key-at-mapping"),
    pytest.param(block(keep=""), ["policy.yaml:9:21: policies[0].protect.keep_at_least: must be an integer >= 0 (got null)"], id="empty-value-after-its-key"),
    pytest.param(block().replace("  - region: us-east-1\n", "  - region: us-east-1\n    regon: x\n"), ["policy.yaml:5:5: targets[0].regon: unknown key (expected one of: region, regions, registry_id, role_arn, external_id, session_name, repositories)"], id="unknown-key-block"),
    pytest.param(block().replace("version: 1\n", ""), ["policy.yaml:2:1: version: required (must be 1)"], id="missing-top-key-at-the-top-mapping"),
    pytest.param(block().replace('["team-a/*"]', '["team-a/*", "", 3]'), ["policy.yaml:5:32: targets[0].repositories[1]: must be a non-empty string (got '')", "policy.yaml:5:36: targets[0].repositories[2]: must be a non-empty string (got 3; quote it to make it a string)"], id="list-items"),
    pytest.param("version: 1\ntargets: [{region: us-east-1}]\npolicies: [{name: p, rules: []}]\nlimits: {max_deletions: 1, 'a.b': 2}\n", ["policy.yaml:4:28: limits.a.b: unknown key (expected one of: max_deletions, max_deletion_ratio, orphaned_referrers, concurrency, requests_per_second, processes)"], id="a-key-with-a-dot"),
    pytest.param("x: &slow {pushed_before: 7x}\nversion: 1\ntargets: [{region: us-east-1}]\npolicies: [{name: p, rules: [{name: r, expire: {<<: *slow}}]}]\n", ["policy.yaml:1:1: x: unknown key (expected one of: version, targets, policies, defaults, limits, schedule, notify, report)", "policy.yaml:1:26: policies[0].rules[0].expire.pushed_before: must be a duration: an integer and a unit s, m, h, d or w, like 14d (got '7x')"], id="merged-key-where-it-is-written"),
]
# fmt: on


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_each_error_is_one_line_with_its_file_line_and_column(
    text: str, expected: list[str]
) -> None:
    errors = errors_of(text)
    assert errors == expected
    assert all("\n" not in e for e in errors)


def test_data_without_a_file_has_no_line_to_show() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {"version": 1, "targets": [{"region": "x"}], "policies": [{"name": "p", "rules": []}]}
        )
    assert caught.value.errors == [
        "targets[0].region: must be an AWS region like us-east-1 (got 'x')"
    ]
