"""Invalid policy files: each row is a file and the exact errors it must produce.

Rules, protections and in-use sources are in test_config_errors_policies.py.
"""

# ruff: noqa: E501  (one row per line keeps the tables readable)
from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from config_support import document, errors_of, target, top

from cleaner.config.load import ConfigError, load_config, load_config_text

P = pytest.param

# fmt: off
FILE_CASES = [
    P("", ["policy.yaml: the top level must be a mapping with version, targets and policies (got an empty file)"], id="empty"),
    P("- a\n- b\n", ["policy.yaml:1:1: the top level must be a mapping with version, targets and policies (got a list)"], id="list"),
    P("just text\n", ["policy.yaml:1:1: the top level must be a mapping with version, targets and policies (got 'just text')"], id="scalar"),
    P("version: 1\ntargets: [\n", ["policy.yaml:3:1: invalid YAML: while parsing a flow node, expected the node content, but found '<stream end>'"], id="syntax-with-line"),
    P("version: 1\n  targets: x\n", ["policy.yaml:2:10: invalid YAML: mapping values are not allowed here"], id="bad-indent"),
    P("a: 1\n---\nb: 2\n", ["policy.yaml:2:1: invalid YAML: expected a single document in the stream, but found another document"], id="two-documents"),
    P("a: !!python/object:os.system x\n", ["policy.yaml:1:4: invalid YAML: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:os.system'"], id="unsafe-tag"),
    P(document("limits: {max_deletions: 1}\nlimits: {max_deletions: 5}\n"), ["policy.yaml:5:1: duplicate key 'limits' (first at line 4)"], id="duplicate-key"),
]

TOP_CASES = [
    P("targets: [{region: us-east-1}]\npolicies: [{name: p, rules: []}]\n", ["policy.yaml:1:1: version: required (must be 1)"], id="version-missing"),
    P(document().replace("version: 1", "version: 2"), ["policy.yaml:1:10: version: must be 1 (got 2)"], id="version-2"),
    P(document().replace("version: 1", "version: '1'"), ["policy.yaml:1:10: version: must be the number 1, not a string (got '1')"], id="version-string"),
    P(document().replace("version: 1", "version: 'one'"), ["policy.yaml:1:10: version: must be the number 1, not a string (got 'one')"], id="version-word"),
    P(document().replace("version: 1", "version: true"), ["policy.yaml:1:10: version: must be 1 (got true)"], id="version-bool"),
    P(top("polices: []\n"), ["policy.yaml:4:1: polices: unknown key (expected one of: version, targets, policies, defaults, limits, schedule, notify, report)"], id="unknown-top-key"),
    P("version: 1\n", ["policy.yaml:1:1: targets: required", "policy.yaml:1:1: policies: required"], id="targets-policies-missing"),
    P(document(targets="[]"), ["policy.yaml:2:10: targets: must be a non-empty list of targets (got an empty list)"], id="targets-empty"),
    P(document(targets="{region: us-east-1}"), ["policy.yaml:2:10: targets: must be a non-empty list of targets (got a mapping)"], id="targets-mapping"),
    P(document(policies="[]"), ["policy.yaml:3:11: policies: must be a non-empty list of policies (got an empty list)"], id="policies-empty"),
    P(top("limits:\n"), ["policy.yaml:4:8: limits: must be a mapping (got null)"], id="limits-null"),
    P(top("limits: {max_deletions: -1}\n"), ["policy.yaml:4:25: limits.max_deletions: must be an integer >= 0 (got -1)"], id="max-deletions-negative"),
    P(top("limits: {max_deletions: 1.5}\n"), ["policy.yaml:4:25: limits.max_deletions: must be an integer >= 0 (got 1.5)"], id="max-deletions-float"),
    P(top("limits: {max_deletions: true}\n"), ["policy.yaml:4:25: limits.max_deletions: must be an integer >= 0 (got true)"], id="max-deletions-bool"),
    P(top("limits: {max_deletion_ratio: 0}\n"), ["policy.yaml:4:30: limits.max_deletion_ratio: must be a number in (0, 1] (got 0)"], id="ratio-0"),
    P(top("limits: {max_deletion_ratio: 1.01}\n"), ["policy.yaml:4:30: limits.max_deletion_ratio: must be a number in (0, 1] (got 1.01)"], id="ratio-above-1"),
    P(top("limits: {max_deletion_ratio: -0.5}\n"), ["policy.yaml:4:30: limits.max_deletion_ratio: must be a number in (0, 1] (got -0.5)"], id="ratio-negative"),
    P(top("limits: {max_deletion_ratio: '0.5'}\n"), ["policy.yaml:4:30: limits.max_deletion_ratio: must be a number in (0, 1] (got '0.5')"], id="ratio-string"),
    P(top("limits: {max_deletion_ratio: true}\n"), ["policy.yaml:4:30: limits.max_deletion_ratio: must be a number in (0, 1] (got true)"], id="ratio-bool"),
    P(top("limits: {max_deletion_ratio: .nan}\n"), ["policy.yaml:4:30: limits.max_deletion_ratio: must be a number in (0, 1] (got nan)"], id="ratio-nan"),
    P(top("limits: {orphaned_referrers: purge}\n"), ["policy.yaml:4:30: limits.orphaned_referrers: must be one of: keep, delete (got 'purge')"], id="orphans-enum"),
    P(top("limits: {concurrency: 0}\n"), ["policy.yaml:4:23: limits.concurrency: must be an integer from 1 to 64 (got 0)"], id="concurrency-zero"),
    P(top("limits: {concurrency: 65}\n"), ["policy.yaml:4:23: limits.concurrency: must be an integer from 1 to 64 (got 65)"], id="concurrency-too-many"),
    P(top("limits: {concurrency: 2.5}\n"), ["policy.yaml:4:23: limits.concurrency: must be an integer from 1 to 64 (got 2.5)"], id="concurrency-float"),
    P(top("limits: {concurrency: true}\n"), ["policy.yaml:4:23: limits.concurrency: must be an integer from 1 to 64 (got true)"], id="concurrency-bool"),
    P(top("limits: {processes: 0}\n"), ["policy.yaml:4:21: limits.processes: must be an integer from 1 to 64 (got 0)"], id="processes-zero"),
    P(top("limits: {processes: 65}\n"), ["policy.yaml:4:21: limits.processes: must be an integer from 1 to 64 (got 65)"], id="processes-too-many"),
    P(top("limits: {processes: auto}\n"), ["policy.yaml:4:21: limits.processes: must be an integer from 1 to 64 (got 'auto')"], id="processes-string"),
    P(top("limits: {requests_per_second: 0}\n"), ["policy.yaml:4:31: limits.requests_per_second: must be a number > 0 (got 0)"], id="rate-zero"),
    P(top("limits: {requests_per_second: -2}\n"), ["policy.yaml:4:31: limits.requests_per_second: must be a number > 0 (got -2)"], id="rate-negative"),
    P(top("limits: {requests_per_second: .inf}\n"), ["policy.yaml:4:31: limits.requests_per_second: must be a number > 0 (got inf)"], id="rate-infinite"),
    P(top("limits: {requests_per_second: '10'}\n"), ["policy.yaml:4:31: limits.requests_per_second: must be a number > 0 (got '10')"], id="rate-string"),
    P(top("limits: {max_deletion: 5}\n"), ["policy.yaml:4:10: limits.max_deletion: unknown key (expected one of: max_deletions, max_deletion_ratio, orphaned_referrers, concurrency, requests_per_second, processes)"], id="limits-unknown"),
    P(top("schedule: {timezone: UTC}\n"), ["policy.yaml:4:11: schedule.cron: required"], id="cron-missing"),
    P(top("schedule: {cron: '0 3 * * * *'}\n"), ["policy.yaml:4:18: schedule.cron: must have 5 fields (minute hour day-of-month month day-of-week), got 6"], id="cron-6-fields"),
    P(top("schedule: {cron: '@daily'}\n"), ["policy.yaml:4:18: schedule.cron: must have 5 fields (minute hour day-of-month month day-of-week), got 1"], id="cron-macro"),
    P(top("schedule: {cron: '61 3 * * *'}\n"), ["policy.yaml:4:18: schedule.cron: invalid cron expression: minute field '61': must be 0-59"], id="cron-minute-61"),
    P(top("schedule: {cron: '0 3 * * 8'}\n"), ["policy.yaml:4:18: schedule.cron: invalid cron expression: day-of-week '8': 8 is not a day (0-7, 0 and 7 are Sunday)"], id="cron-weekday-8"),
    P(top("schedule: {cron: '0 3 * * 5-1'}\n"), ["policy.yaml:4:18: schedule.cron: invalid cron expression: day-of-week '5-1': range runs backwards"], id="cron-weekday-backwards"),
    P(top("schedule: {cron: '0 3 * * funday'}\n"), ["policy.yaml:4:18: schedule.cron: invalid cron expression: day-of-week 'funday': not a day (sun, mon, tue, wed, thu, fri, sat or 0-7)"], id="cron-weekday-name"),
    P(top("schedule: {cron: '0 3 last * *'}\n"), ["policy.yaml:4:18: schedule.cron: invalid cron expression: day-of-month 'last' is not crontab syntax"], id="cron-apscheduler-only-syntax"),
    P(top("schedule: {cron: '0 3 * * *', timezone: Mars/Olympus}\n"), ["policy.yaml:4:41: schedule.timezone: unknown time zone 'Mars/Olympus' (use an IANA name like UTC or Europe/Berlin)"], id="timezone-unknown"),
    P(top("schedule: {cron: '0 3 * * *', timezone: ../etc/passwd}\n"), ["policy.yaml:4:41: schedule.timezone: unknown time zone '../etc/passwd' (use an IANA name like UTC or Europe/Berlin)"], id="timezone-path"),
    P(top("schedule: {cron: 3, timezone: ''}\n"), ["policy.yaml:4:31: schedule.timezone: must be a non-empty string (got '')", "policy.yaml:4:18: schedule.cron: must be a non-empty string (got 3; quote it to make it a string)"], id="schedule-types"),
    P(top("defaults: {protekt: {}}\n"), ["policy.yaml:4:12: defaults.protekt: unknown key (expected one of: protect)"], id="defaults-unknown"),
]

TARGET_CASES = [
    P(target("{repositories: ['*']}"), ["policy.yaml:2:11: targets[0]: give region or regions (one is required)"], id="no-region"),
    P(target("{region: us-east-1, regions: [eu-west-1]}"), ["policy.yaml:2:11: targets[0]: give region or regions (not both)"], id="region-and-regions"),
    P(target("{regions: []}"), ["policy.yaml:2:21: targets[0].regions: must be a non-empty list of regions (got an empty list)"], id="regions-empty"),
    P(target("{regions: us-east-1}"), ["policy.yaml:2:21: targets[0].regions: must be a non-empty list of regions (got 'us-east-1')"], id="regions-string"),
    P(target("{region: US-East-1}"), ["policy.yaml:2:20: targets[0].region: must be an AWS region like us-east-1 (got 'US-East-1')"], id="region-case"),
    P(target("{region: us-east}"), ["policy.yaml:2:20: targets[0].region: must be an AWS region like us-east-1 (got 'us-east')"], id="region-no-number"),
    P(target("{regions: [us-east-1, useast1, 5]}"), ["policy.yaml:2:33: targets[0].regions[1]: must be an AWS region like us-east-1 (got 'useast1')", "policy.yaml:2:42: targets[0].regions[2]: must be an AWS region like us-east-1 (got 5)"], id="regions-items"),
    P(target("{regions: [us-east-1, us-east-1]}"), ["policy.yaml:2:33: targets[0].regions[1]: duplicate region 'us-east-1'"], id="regions-duplicate"),
    P(target("{region: us-east-1, registry_id: 123456789012}"), ['policy.yaml:2:44: targets[0].registry_id: must be a string of 12 digits in quotes, like "123456789012" (YAML reads unquoted digits as a number and drops leading zeros)'], id="registry-id-number"),
    P(target("{region: us-east-1, registry_id: 12345678901}"), ['policy.yaml:2:44: targets[0].registry_id: must be a string of 12 digits in quotes, like "012345678901" (YAML reads unquoted digits as a number and drops leading zeros)'], id="registry-id-lost-zero"),
    P(target("{region: us-east-1, registry_id: '1234'}"), ["policy.yaml:2:44: targets[0].registry_id: must be a string of 12 digits, an AWS account id (got '1234')"], id="registry-id-short"),
    P(target("{region: us-east-1, role_arn: 'arn:aws:iam::123456789012:user/bob'}"), ["policy.yaml:2:41: targets[0].role_arn: must be an IAM role ARN like arn:aws:iam::123456789012:role/NAME (got 'arn:aws:iam::123456789012:user/bob')"], id="role-arn-user"),
    P(target("{region: us-east-1, role_arn: 'arn:aws:iam::1234:role/x'}"), ["policy.yaml:2:41: targets[0].role_arn: must be an IAM role ARN like arn:aws:iam::123456789012:role/NAME (got 'arn:aws:iam::1234:role/x')"], id="role-arn-account"),
    P(target("{region: us-east-1, repositories: []}"), ["policy.yaml:2:45: targets[0].repositories: must be a non-empty list of repository globs (got an empty list)"], id="repositories-empty"),
    P(target("{region: us-east-1, repositories: 'team-a/*'}"), ["policy.yaml:2:45: targets[0].repositories: must be a non-empty list of repository globs (got 'team-a/*')"], id="repositories-string"),
    P(target("{region: us-east-1, repositories: [ok, 1, '', '!']}"), ["policy.yaml:2:50: targets[0].repositories[1]: must be a non-empty string (got 1; quote it to make it a string)", "policy.yaml:2:53: targets[0].repositories[2]: must be a non-empty string (got '')"], id="repositories-items"),
    P(target("{region: us-east-1, repositories: ['!']}"), ["policy.yaml:2:46: targets[0].repositories[0]: '!' must be followed by the glob to exclude"], id="repositories-bare-bang"),
    P(target("{region: us-east-1, external_id: x-42}"), ["policy.yaml:2:44: targets[0].external_id: needs role_arn (it is used when assuming that role)"], id="external-id-without-role"),
    P(target("{region: us-east-1, session_name: nightly}"), ["policy.yaml:2:45: targets[0].session_name: needs role_arn (it is used when assuming that role)"], id="session-name-without-role"),
    P(target("{region: us-east-1, role_arn: 'arn:aws:iam::123456789012:role/c', external_id: 'a b'}"), ["policy.yaml:2:90: targets[0].external_id: must be 2 to 1224 characters: letters, digits and _+=,.@:/- (got 'a b')"], id="external-id-space"),
    P(target("{region: us-east-1, role_arn: 'arn:aws:iam::123456789012:role/c', external_id: 42}"), ["policy.yaml:2:90: targets[0].external_id: must be 2 to 1224 characters: letters, digits and _+=,.@:/- (got 42)"], id="external-id-number"),
    P(target("{region: us-east-1, role_arn: 'arn:aws:iam::123456789012:role/c', session_name: 'a/b'}"), ["policy.yaml:2:91: targets[0].session_name: must be 2 to 64 characters: letters, digits and _+=,.@- (got 'a/b')"], id="session-name-slash"),
    P(target("{region: us-east-1, role_arn: 'arn:aws:iam::123456789012:role/c', session_name: x}"), ["policy.yaml:2:91: targets[0].session_name: must be 2 to 64 characters: letters, digits and _+=,.@- (got 'x')"], id="session-name-short"),
    P(target("{region: us-east-1, role_arn: 'arn:aws:iam::123456789012:role/c', session_name: é-é}"), ["policy.yaml:2:91: targets[0].session_name: must be 2 to 64 characters: letters, digits and _+=,.@- (got 'é-é')"], id="session-name-unicode"),
    P(target("{regon: us-east-1}"), ["policy.yaml:2:12: targets[0].regon: unknown key (expected one of: region, regions, registry_id, role_arn, external_id, session_name, repositories)", "policy.yaml:2:11: targets[0]: give region or regions (one is required)"], id="target-unknown-key"),
    P(document(targets="[us-east-1]"), ["policy.yaml:2:11: targets[0]: must be a mapping (got 'us-east-1')"], id="target-not-mapping"),
]

# fmt: on


@pytest.mark.parametrize(("text", "expected"), FILE_CASES + TOP_CASES + TARGET_CASES)
def test_invalid_file_reports_each_error_with_its_place(text: str, expected: list[str]) -> None:
    assert errors_of(text) == expected


def test_every_error_of_the_file_is_reported_at_once() -> None:
    text = """\
version: 3
targets:
  - {region: nowhere, registry_id: "42"}
policies:
  - name: services
    rules:
      - {name: a, selct: {}, keep: {most_recent: 0}}
      - {name: a, select: {tag_status: untagged, tags: [x]}}
limits: {max_deletion_ratio: 2}
schedule: {cron: "* * *"}
"""
    # Each error is at its value; an unknown key at the key; a rule that lacks
    # something at the rule.
    assert errors_of(text) == [
        "policy.yaml:1:10: version: must be 1 (got 3)",
        "policy.yaml:3:14: targets[0].region: must be an AWS region like us-east-1 (got 'nowhere')",
        "policy.yaml:3:36: targets[0].registry_id: must be a string of 12 digits, an AWS account id (got '42')",
        "policy.yaml:7:19: policies[0].rules[0].selct: unknown key (expected one of: name, select, keep, expire, action)",
        "policy.yaml:7:50: policies[0].rules[0].keep.most_recent: must be an integer >= 1 (got 0)",
        "policy.yaml:8:9: policies[0].rules[1]: needs keep, expire or both (with neither, every candidate would expire)",
        "policy.yaml:8:56: policies[0].rules[1].select.tags: not allowed with tag_status: untagged (they have no tags)",
        "policy.yaml:8:16: policies[0].rules[1].name: duplicate name 'a' (first used at policies[0].rules[0])",
        "policy.yaml:9:30: limits.max_deletion_ratio: must be a number in (0, 1] (got 2)",
        "policy.yaml:10:18: schedule.cron: must have 5 fields (minute hour day-of-month month day-of-week), got 3",
    ]


def test_duplicate_keys_are_reported_with_the_other_errors() -> None:
    text = document("limits: {max_deletions: -1, max_deletions: 5}\n", targets="[{region: x}]")
    assert errors_of(text) == [
        "policy.yaml:4:29: duplicate key 'max_deletions' (first at line 4)",
        "policy.yaml:2:20: targets[0].region: must be an AWS region like us-east-1 (got 'x')",
    ]


def test_config_error_message_lists_the_errors_one_a_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text("version: 2\n", source="p.yaml")
    assert str(caught.value) == (
        "p.yaml:1:10: version: must be 1 (got 2)\n"
        "p.yaml:1:1: targets: required\n"
        "p.yaml:1:1: policies: required"
    )
    assert caught.value.errors == str(caught.value).splitlines()


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing)
    assert caught.value.errors == [f"{missing}: no such file"]


def test_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.errors == [f"{tmp_path}: cannot read: Is a directory"]


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("version: 1 # café\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.errors == [f"{path}: not UTF-8 text (invalid continuation byte at byte 16)"]


def test_yaml_errors_name_the_file_they_were_read_from(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\ntargets: [\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert caught.value.errors[0].startswith(f"{path}:3:1: invalid YAML: ")


def test_config_error_survives_pickling() -> None:
    original = ConfigError(["version: must be 1 (got 2)", "targets: required"])
    copy = pickle.loads(pickle.dumps(original))
    assert copy.errors == original.errors and str(copy) == str(original)
