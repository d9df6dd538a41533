"""Valid policy files and the Config they produce."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from config_support import document, in_use, policies, rule, target

from cleaner.config.load import load_config, load_config_text, parse_config
from cleaner.config.model import (
    Config,
    Expire,
    InUseSource,
    Keep,
    Limits,
    NamePatterns,
    OrderBy,
    OrphanedReferrers,
    Policy,
    Protect,
    Rule,
    Schedule,
    Select,
    TagPattern,
    TagStatus,
    Target,
)

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"

FULL_EXAMPLE = r"""
version: 1
targets:
  - region: us-east-1
    registry_id: "123456789012"
    role_arn: arn:aws:iam::123456789012:role/ecr-cleaner
    repositories: ["*"]
policies:
  - name: services
    repositories: ["team-a/*", "!team-a/base-images"]
    protect:
      tags: ["latest", "prod", "re:^v\\d+\\.\\d+\\.\\d+$"]
      pulled_within: 14d
      keep_at_least: 3
    rules:
      - name: feature-branches
        select:
          tag_status: tagged
          tags: ["feature-*", "re:^pr-\\d+$"]
        keep:
          most_recent: 5
          order_by: pushed
          group_by: "re:^feature-([a-z0-9]+)-"
        expire:
          pushed_before: 14d
          not_pulled_for: 30d
      - name: untagged
        select: {tag_status: untagged}
        expire: {pushed_before: 1d}
defaults:
  protect: {tags: ["latest"]}
limits:
  max_deletions: 1000
  max_deletion_ratio: 0.9
  orphaned_referrers: keep
schedule:
  cron: "0 3 * * *"
  timezone: UTC
"""


def tags(*sources: str) -> tuple[TagPattern, ...]:
    return tuple(TagPattern.parse(s) for s in sources)


def test_the_spec_example_loads_to_these_objects() -> None:
    assert load_config_text(FULL_EXAMPLE) == Config(
        targets=(
            Target(
                region="us-east-1",
                registry_id="123456789012",
                role_arn="arn:aws:iam::123456789012:role/ecr-cleaner",
                repositories=NamePatterns(("*",)),
            ),
        ),
        policies=(
            Policy(
                name="services",
                repositories=NamePatterns(("team-a/*",), ("team-a/base-images",)),
                protect=Protect(
                    tags=tags("latest", "prod", r"re:^v\d+\.\d+\.\d+$"),
                    pulled_within=timedelta(days=14),
                    keep_at_least=3,
                ),
                rules=(
                    Rule(
                        name="feature-branches",
                        select=Select(TagStatus.TAGGED, tags("feature-*", r"re:^pr-\d+$")),
                        keep=Keep(5, OrderBy.PUSHED, TagPattern.parse("re:^feature-([a-z0-9]+)-")),
                        expire=Expire(timedelta(days=14), timedelta(days=30)),
                    ),
                    Rule("untagged", Select(TagStatus.UNTAGGED), None, Expire(timedelta(days=1))),
                ),
            ),
        ),
        limits=Limits(1000, 0.9, OrphanedReferrers.KEEP),
        schedule=Schedule("0 3 * * *", "UTC"),
    )


def test_omitted_settings_take_the_spec_defaults() -> None:
    config = load_config_text(rule("{name: r, keep: {most_recent: 2}}"))
    assert config.targets == (Target("us-east-1", None, None, NamePatterns(("*",), ())),)
    assert config.limits == Limits(1000, 1.0, OrphanedReferrers.KEEP)
    assert config.schedule is None
    assert config.version == 1
    (only,) = config.policies
    assert only.repositories == NamePatterns(("*",), ())
    assert only.protect == Protect(tags=(), pulled_within=None, keep_at_least=1, in_use=())
    assert only.rules == (Rule("r", Select(TagStatus.ANY, None), Keep(2, OrderBy.PUSHED), None),)


@pytest.mark.parametrize(
    ("defaults", "own", "expected"),
    [
        pytest.param("{}", "{}", Protect(), id="neither"),
        pytest.param(
            "{tags: [latest], pulled_within: 7d, keep_at_least: 2}",
            "{}",
            Protect(tags("latest"), timedelta(days=7), 2),
            id="defaults-only",
        ),
        pytest.param(
            "{tags: [latest, stable]}",
            "{tags: [prod, latest, 're:^v\\d+$']}",
            Protect(tags("latest", "stable", "prod", r"re:^v\d+$")),
            id="tags-added-defaults-first-no-duplicates",
        ),
        pytest.param(
            "{pulled_within: 30d, keep_at_least: 5}",
            "{pulled_within: 2w, keep_at_least: 0}",
            Protect(pulled_within=timedelta(weeks=2), keep_at_least=0),
            id="scalars-given-by-policy-replace-even-zero",
        ),
        pytest.param(
            "{keep_at_least: 0}",
            "{}",
            Protect(keep_at_least=0),
            id="defaults-zero-stays-zero",
        ),
        pytest.param(
            "{keep_at_least: 4}",
            "{keep_at_least: 0}",
            Protect(keep_at_least=0),
            id="policy-zero-replaces-default",
        ),
        pytest.param(
            "{pulled_within: 30d}",
            "{keep_at_least: 1}",
            Protect(pulled_within=timedelta(days=30), keep_at_least=1),
            id="scalars-mixed",
        ),
        pytest.param(
            "{in_use: {sources: [ecs, {file: {path: /a}}]}}",
            "{in_use: {sources: [lambda, ecs, {file: {path: /b}}]}}",
            Protect(
                in_use=(
                    InUseSource("ecs"),
                    InUseSource("file", (("path", "/a"),)),
                    InUseSource("lambda"),
                    InUseSource("file", (("path", "/b"),)),
                )
            ),
            id="in-use-sources-added-no-duplicates",
        ),
    ],
)
def test_policy_protect_is_combined_with_defaults(
    defaults: str, own: str, expected: Protect
) -> None:
    text = document(
        f"defaults: {{protect: {defaults}}}\n",
        policies=f"[{{name: p, protect: {own}, rules: []}}]",
    )
    assert load_config_text(text).policies[0].protect == expected


def test_defaults_protect_applies_to_every_policy() -> None:
    text = document(
        "defaults: {protect: {tags: [latest]}}\n",
        policies="[{name: a, repositories: [a], rules: []}, {name: b, rules: []}]",
    )
    assert [p.protect.tags for p in load_config_text(text).policies] == [tags("latest")] * 2


def test_in_use_sources_keep_their_options_parsed_and_sorted() -> None:
    text = in_use(
        "{ecs: {task_definition_revisions: 2}}",
        "{command: {timeout: 30s, argv: [list-images, --all]}}",
        "{lambda: {}}",
    )
    assert load_config_text(text).policies[0].protect.in_use == (
        InUseSource("ecs", (("task_definition_revisions", 2),)),
        InUseSource(
            "command", (("argv", ("list-images", "--all")), ("timeout", timedelta(seconds=30)))
        ),
        InUseSource("lambda"),
    )


def test_regions_expand_into_one_target_per_region() -> None:
    text = document(
        targets="[{regions: [eu-west-1, us-gov-west-1, cn-north-1], registry_id: '012345678901',"
        " role_arn: 'arn:aws-us-gov:iam::012345678901:role/c', repositories: [a/*, '!a/b']},"
        " {region: us-east-1}]"
    )
    shared = Target(
        region="eu-west-1",
        registry_id="012345678901",
        role_arn="arn:aws-us-gov:iam::012345678901:role/c",
        repositories=NamePatterns(("a/*",), ("a/b",)),
    )
    assert load_config_text(text).targets == (
        shared,
        replace(shared, region="us-gov-west-1"),
        replace(shared, region="cn-north-1"),
        Target("us-east-1"),
    )


def test_a_role_can_take_an_external_id_and_a_session_name() -> None:
    text = document(
        targets="[{regions: [us-east-1, eu-west-1], role_arn: 'arn:aws:iam::111111111111:role/c',"
        " external_id: 'org/cleaner:42', session_name: nightly-cleaner@ops}]"
    )
    east, west = load_config_text(text).targets
    assert east == Target(
        region="us-east-1",
        role_arn="arn:aws:iam::111111111111:role/c",
        external_id="org/cleaner:42",
        session_name="nightly-cleaner@ops",
    )
    assert west == replace(east, region="eu-west-1")


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ("{}", Limits(concurrency=8, requests_per_second=None)),
        ("{concurrency: 1}", Limits(concurrency=1)),
        (
            "{concurrency: 64, requests_per_second: 20}",
            Limits(concurrency=64, requests_per_second=20.0),
        ),
        ("{requests_per_second: 0.5}", Limits(requests_per_second=0.5)),
        ("{processes: 3}", Limits(processes=3)),
        ("{processes: 1, concurrency: 2}", Limits(processes=1, concurrency=2)),
    ],
)
def test_limits_take_a_concurrency_and_a_request_rate(limits: str, expected: Limits) -> None:
    assert load_config_text(document(f"limits: {limits}\n")).limits == expected


def test_yaml_anchors_and_merge_keys_work() -> None:
    text = policies(
        "{name: p, rules: [{name: a, keep: &k {most_recent: 3, order_by: pulled}},"
        " {name: b, keep: {<<: *k, most_recent: 5}}]}"
    )
    rules = load_config_text(text).policies[0].rules
    assert [r.keep for r in rules] == [Keep(3, OrderBy.PULLED), Keep(5, OrderBy.PULLED)]


def test_quoted_registry_id_keeps_leading_zeros_and_schedule_reads_weekday_names() -> None:
    text = document("schedule: {cron: '30 2 * * mon-fri', timezone: Europe/Berlin}\n")
    text = text.replace(
        "[{region: us-east-1}]", "[{region: us-east-1, registry_id: '000000000042'}]"
    )
    config = load_config_text(text)
    assert config.targets[0].registry_id == "000000000042"
    assert config.schedule == Schedule("30 2 * * mon-fri", "Europe/Berlin")


def test_limits_accept_zero_deletions_and_an_integer_ratio() -> None:
    text = document(
        "limits: {max_deletions: 0, max_deletion_ratio: 1, orphaned_referrers: delete}\n"
    )
    assert load_config_text(text).limits == Limits(0, 1.0, OrphanedReferrers.DELETE)


def test_parse_config_takes_already_parsed_data() -> None:
    data = {
        "version": 1,
        "targets": [{"region": "us-east-1"}],
        "policies": [{"name": "p", "rules": [{"name": "r", "expire": {"pushed_before": "1d"}}]}],
    }
    assert parse_config(data).policies[0].rules[0].expire == Expire(timedelta(days=1))


def test_config_is_hashable_all_the_way_down() -> None:
    config = load_config_text(in_use("{command: {argv: [a, b]}}"))
    assert hash(config) == hash(load_config_text(in_use("{command: {argv: [a, b]}}")))


def test_the_example_cannot_delete_anything_until_edited() -> None:
    config = load_config(CONFIG_DIR / "example.yaml")
    assert config.limits.max_deletions == 0
    assert len(config.policies) >= 2 and config.schedule is not None


def test_the_minimal_example_cleans_untagged_images_older_than_7_days() -> None:
    config = load_config(CONFIG_DIR / "minimal.yaml")
    assert config.targets == (Target("us-east-1"),)
    (only,) = config.policies
    assert only.rules[0].select == Select(TagStatus.UNTAGGED)
    assert only.rules[0].expire == Expire(pushed_before=timedelta(days=7))


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_every_file_in_config_loads(path: Path) -> None:
    assert load_config(path).version == 1


def test_target_helper_builds_valid_files() -> None:
    # Guards the error tables: their baseline must be valid, so each row's errors are its own.
    assert load_config_text(target("{region: us-east-1}")).targets == (Target("us-east-1"),)


def test_schedule_accepts_crontab_weekday_numbers() -> None:
    # Sunday is 0 (and 7) as in crontab; cleaner.config.cron maps it to APScheduler's names.
    config = load_config_text(document("schedule: {cron: '0 3 * * 0,7'}\n"))
    assert config.schedule == Schedule("0 3 * * 0,7", "UTC")
